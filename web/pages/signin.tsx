// Signed out: a token, nothing else. The token goes to POST /api/v1/session, which checks it and
// sets an HttpOnly cookie; the page never keeps it.
import { useState } from 'preact/hooks';
import { signIn, type Session } from '../api.js';
import { ErrorBox } from '../components/ui.js';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(token.trim()));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="signin">
      <form class="card" onSubmit={(e) => void submit(e)}>
        <h1>
          <img src="/ui/favicon.svg" alt="" width="28" height="28" /> Agora
        </h1>
        <p class="muted">Sign in with a token. <code>agora up</code> writes the admin token to <code>.agora/admin-token</code>; <code>agora acl token create</code> makes others.</p>
        <label>
          Token
          <input type="password" name="token" autocomplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} data-testid="token" required />
        </label>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy || token.trim() === ''} data-testid="sign-in">
          Sign in
        </button>
      </form>
    </div>
  );
}
