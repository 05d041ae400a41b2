/** Environment variables Ink reads, once, when it is first imported, to decide it runs in CI. */
const CI_MARKERS = ['CI', 'CONTINUOUS_INTEGRATION'] as const;

/**
 * Loads the interactive interface. Ink switches to a non-interactive mode (no frames until the
 * program exits) when CI or CONTINUOUS_INTEGRATION is set, which leaves an operator on a real
 * terminal — a CI runner's debug shell, a VM whose profile exports CI=true — staring at a blank
 * screen. The TUI only opens on a TTY, so those markers are hidden while Ink loads, then put back.
 */
export async function loadTui(): Promise<typeof import('./run.js')> {
  const hidden = CI_MARKERS.flatMap((name) => (name in process.env ? [[name, process.env[name]] as const] : []));
  for (const [name] of hidden) delete process.env[name];
  try {
    return await import('./run.js');
  } finally {
    for (const [name, value] of hidden) process.env[name] = value;
  }
}
