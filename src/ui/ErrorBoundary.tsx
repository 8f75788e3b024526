/**
 * Last line of defence for the UI thread: a render error in any panel shows what broke, as
 * text, in place of the app, instead of React unmounting the page to a blank screen. "Try
 * again" re-renders from the store (the open image, its view) unchanged. Worker failures do
 * not come here: they are ErrorInfo values (kind 'worker') in the store (worker/client.ts).
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  readonly children: ReactNode;
}

interface State {
  readonly error: Error | undefined;
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: undefined };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(_error: unknown, _info: ErrorInfo): void {
    // Deliberately not logged with component stacks or props: they may hold file names.
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <section className="panel errors" role="alert" aria-label="The page stopped">
        <h2>The page hit a bug</h2>
        <p>
          <strong>{error.name}</strong>: {error.message}
        </p>
        <p>Your files stay on this computer; nothing was sent anywhere.</p>
        <button type="button" onClick={() => this.setState({ error: undefined })}>
          Try again
        </button>
      </section>
    );
  }
}
