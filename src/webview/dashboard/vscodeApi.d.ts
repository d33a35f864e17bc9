/** What VS Code gives a webview page (once per page): messages to the extension and a state kept while the panel is hidden. */
interface VsCodeApi<State> {
  postMessage(message: unknown): void;
  getState(): State | undefined;
  setState(state: State): void;
}
declare function acquireVsCodeApi<State = unknown>(): VsCodeApi<State>;
