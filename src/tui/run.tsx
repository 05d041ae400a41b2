import { render } from 'ink';
import type { SessionOptions } from '../app/session.js';
import { App, type AppProps } from './App.js';
import { createBackend } from './backend.js';

/** Opens the interactive interface and resolves with the exit code once the operator leaves. */
export async function runTui(initial: AppProps['initial'], options: SessionOptions, signal: AbortSignal): Promise<number> {
  const backend = await createBackend(options);
  let exitCode = 0;
  const instance = render(<App backend={backend} initial={initial} signal={signal} onExit={(code) => (exitCode = code)} />, {
    exitOnCtrlC: false,
  });
  await instance.waitUntilExit();
  return exitCode;
}
