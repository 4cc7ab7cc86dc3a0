/** Inline SVG icons (no icon font, no CDN). Decorative: hidden from assistive tech. */
import type { ReactElement } from 'react';

function Svg({ children, className }: { children: ReactElement | ReactElement[]; className?: string }) {
  return (
    <svg className={`icon ${className ?? ''}`} viewBox="0 0 24 24" width="18" height="18" fill="none"
      stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      {children}
    </svg>
  );
}

export const LockIcon = ({ className }: { className?: string }) => (
  <Svg className={className}><rect x="4" y="11" width="16" height="10" rx="2" /><path d="M8 11V7a4 4 0 0 1 8 0v4" /></Svg>
);
export const UnlockIcon = ({ className }: { className?: string }) => (
  <Svg className={className}><rect x="4" y="11" width="16" height="10" rx="2" /><path d="M8 11V7a4 4 0 0 1 7.5-2" /></Svg>
);
export const ArchiveIcon = ({ className }: { className?: string }) => (
  <Svg className={className}><rect x="3" y="4" width="18" height="5" rx="1" /><path d="M5 9v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V9" /><path d="M10 13h4" /></Svg>
);
export const DownloadIcon = () => (
  <Svg><path d="M12 4v11" /><path d="m7 10 5 5 5-5" /><path d="M5 20h14" /></Svg>
);
export const RestoreIcon = () => (
  <Svg><path d="M3 12a9 9 0 1 0 3-6.7" /><path d="M3 4v5h5" /></Svg>
);
export const TrashIcon = () => (
  <Svg><path d="M4 7h16" /><path d="M10 11v6M14 11v6" /><path d="M6 7l1 13h10l1-13" /><path d="M9 7V4h6v3" /></Svg>
);
export const CheckIcon = () => (
  <Svg><path d="M12 3 4 6v6c0 4.4 3.4 8.2 8 9 4.6-.8 8-4.6 8-9V6z" /><path d="m8.5 12 2.5 2.5 4.5-5" /></Svg>
);
export const StopIcon = () => (
  <Svg><rect x="6" y="6" width="12" height="12" rx="1.5" /></Svg>
);
export const FolderIcon = () => (
  <Svg><path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" /></Svg>
);
export const PlusIcon = () => (
  <Svg><path d="M12 5v14M5 12h14" /></Svg>
);
export const AlertIcon = ({ className }: { className?: string }) => (
  <Svg className={className}><circle cx="12" cy="12" r="9" /><path d="M12 7v6" /><path d="M12 16.5v.5" /></Svg>
);
export const ServerIcon = () => (
  <Svg><rect x="3" y="4" width="18" height="7" rx="1.5" /><rect x="3" y="13" width="18" height="7" rx="1.5" /><path d="M7 7.5h.01M7 16.5h.01" /></Svg>
);

export function Spinner({ label }: { label?: string }) {
  return (
    <span className="spinner" role={label ? 'status' : undefined} aria-label={label}>
      <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
        <circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" strokeOpacity="0.25" strokeWidth="3" />
        <path d="M21 12a9 9 0 0 0-9-9" fill="none" stroke="currentColor" strokeWidth="3" strokeLinecap="round" />
      </svg>
    </span>
  );
}

export const ClockIcon = ({ className }: { className?: string }) => (
  <Svg className={className}><circle cx="12" cy="12" r="9" /><path d="M12 7v5l3 2" /></Svg>
);
export const PlayIcon = () => (
  <Svg><path d="M7 5v14l11-7z" /></Svg>
);
export const EditIcon = () => (
  <Svg><path d="M4 20h4L19 9l-4-4L4 16z" /><path d="m13 7 4 4" /></Svg>
);
