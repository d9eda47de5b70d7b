// The API's bearer token, and calls to the API with it.
//
// The token is kept in this tab's sessionStorage only (gone when the tab closes, never shared with
// other tabs or written to disk by localStorage) and sent only in the Authorization header: never
// in a URL (history, logs, Referer) and never in a cookie, so another site cannot make this
// browser call the API with it.

const KEY = 'stallwatch.apiToken';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// an earlier version could keep the token in localStorage: never read it, drop it
localStorage.removeItem(KEY);

function storedToken() {
  return sessionStorage.getItem(KEY);
}

function forgetToken() {
  sessionStorage.removeItem(KEY);
}

function storeToken(token) {
  sessionStorage.setItem(KEY, token);
}

/** GET from the API; resolves to the Response, rejects with an ApiError for any non-2xx answer. */
export async function apiGet(path) {
  const token = storedToken();
  if (!token) {
    throw new ApiError(401, 'no token');
  }
  const response = await fetch(path, {
    headers: {'Authorization': 'Bearer ' + token},
    cache: 'no-store',
    credentials: 'omit',
  });
  if (!response.ok) {
    let message = response.status + ' ' + response.statusText;
    try {
      message = (await response.json()).error || message;
    } catch (notJson) {
      // keep the status line
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

function show(id, visible) {
  document.getElementById(id).hidden = !visible;
}

export function showError(message) {
  const error = document.getElementById('error');
  error.textContent = message;
  error.hidden = false;
}

/**
 * Runs load() once a token is stored; asks for one first when there is none, and again when the
 * API refuses the stored one. keepContentOnError: show the page's content beside an error (the
 * list's filter form, so that a bad filter can be fixed).
 */
export function withToken(load, {keepContentOnError = false} = {}) {
  const form = document.getElementById('login-form');
  const message = document.getElementById('login-message');

  async function attempt(afterLogin) {
    if (!storedToken()) {
      askForToken('');
      return;
    }
    show('login', false);
    show('logout', true);
    try {
      await load();
      show('content', true);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        forgetToken();
        askForToken(afterLogin ? 'The token was not accepted.' : 'The stored token is no longer accepted.');
      } else {
        showError(e.message);
        show('content', keepContentOnError);
      }
    }
  }

  function askForToken(text) {
    message.textContent = text;
    message.hidden = !text;
    show('content', false);
    show('logout', false);
    show('login', true);
    document.getElementById('token').focus();
  }

  form.addEventListener('submit', event => {
    event.preventDefault();
    const input = document.getElementById('token');
    storeToken(input.value.trim());
    input.value = '';
    attempt(true);
  });
  document.getElementById('logout').addEventListener('click', () => {
    forgetToken();
    location.reload();
  });
  attempt(false);
}
