/**
 * The admin's default ignore patterns (issue 17): the node's, and the server's game type (egg)
 * ones, applied below the server's own (.pteroignore and the form), egg above node.
 */

export type DefaultsSource = 'node' | 'egg';

const TITLE: Record<DefaultsSource, string> = {
  node: 'Always ignored on this node (set by the admin)',
  egg: "Always ignored for this server's game type (set by the admin)",
};

/** In the create dialog: what every backup leaves out besides .pteroignore and the form. */
export function NodeDefaults({ patterns, source = 'node' }: { patterns: string[]; source?: DefaultsSource }) {
  return (
    <section className="field ignore-file" aria-label={TITLE[source]} data-testid={`${source}-defaults`}>
      <h3 className="field-label">{TITLE[source]}</h3>
      <pre className="ignore-file-content" tabIndex={0} aria-label={`${source === 'node' ? 'Node' : 'Game type'} default patterns`}>{patterns.join('\n')}</pre>
      <p className="hint">The server's <code>.pteroignore</code> and the patterns above come after these, so a <code>!</code> line there keeps a file in.</p>
    </section>
  );
}

/** In a backup's details: the defaults it was made with, after the request's own patterns. */
export function IgnoreDefaultsNote({ patterns, first, source = 'node' }: { patterns: string[]; first: boolean; source?: DefaultsSource }) {
  if (patterns.length === 0) return null;
  const label = source === 'node' ? 'node defaults: ' : 'game type defaults: ';
  return (
    <span data-testid={source === 'node' ? 'ignore-defaults' : 'ignore-egg-defaults'}>
      <span className="muted">{first ? label : `; ${label}`}</span>
      {patterns.map((p, i) => <span key={i}>{i > 0 && ', '}<code>{p}</code></span>)}
    </span>
  );
}
