/** The node's default ignore patterns (issue 17): set by the admin, applied below the server's own. */

/** In the create dialog: what every backup on this node leaves out besides .pteroignore and the form. */
export function NodeDefaults({ patterns }: { patterns: string[] }) {
  return (
    <section className="field ignore-file" aria-label="Always ignored on this node" data-testid="node-defaults">
      <h3 className="field-label">Always ignored on this node (set by the admin)</h3>
      <pre className="ignore-file-content" tabIndex={0} aria-label="Node default patterns">{patterns.join('\n')}</pre>
      <p className="hint">The server's <code>.pteroignore</code> and the patterns above come after these, so a <code>!</code> line there keeps a file in.</p>
    </section>
  );
}

/** In a backup's details: the node defaults it was made with, after the request's own patterns. */
export function IgnoreDefaultsNote({ patterns, first }: { patterns: string[]; first: boolean }) {
  if (patterns.length === 0) return null;
  return (
    <span data-testid="ignore-defaults">
      <span className="muted">{first ? 'node defaults: ' : '; node defaults: '}</span>
      {patterns.map((p, i) => <span key={i}>{i > 0 && ', '}<code>{p}</code></span>)}
    </span>
  );
}
