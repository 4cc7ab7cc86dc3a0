import { navigate } from '../lib/router.ts';

/** "Servers / <server name>" above every per-server page. */
export function Breadcrumb({ title }: { title: string }) {
  return (
    <nav className="breadcrumb" aria-label="Breadcrumb">
      <a href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>Servers</a>
      <span aria-hidden="true">/</span>
      <span>{title}</span>
    </nav>
  );
}
