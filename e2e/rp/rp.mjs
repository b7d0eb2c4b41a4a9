// A small relying web app ("デモ処方システム") for the demo and the end-to-end test: it signs a
// holder in through the platform's OpenID Provider with the authorization code flow (PKCE S256,
// state, nonce, client_secret_basic) using the `openid-client` library, which checks discovery,
// the JWKS, the ID token's signature, issuer, audience, expiry and nonce itself, then shows the
// ID token's claims and the userinfo answer.
//
// Environment: MAHPKI_ISSUER (the platform's public origin), RP_CLIENT_ID, RP_CLIENT_SECRET,
// RP_PORT (default 8090). It listens on 127.0.0.1 and prints "rp listening on http://…".
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as client from 'openid-client';

const issuer = process.env.MAHPKI_ISSUER;
const clientId = process.env.RP_CLIENT_ID;
const clientSecret = process.env.RP_CLIENT_SECRET;
const port = Number(process.env.RP_PORT ?? 8090);
if (!issuer || !clientId || !clientSecret) {
  console.error('rp: set MAHPKI_ISSUER, RP_CLIENT_ID and RP_CLIENT_SECRET');
  process.exit(2);
}
const base = `http://localhost:${port}`;
const redirectUri = `${base}/callback`;

// A plain-HTTP issuer is the demo's (http://localhost): production issuers are HTTPS.
const insecure = issuer.startsWith('http://') ? { execute: [client.allowInsecureRequests] } : {};
const config = await client.discovery(new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), insecure);

/** Browser sessions of this app: its own cookie, the pending request's secrets, the result. */
const sessions = new Map();

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, body) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'cache-control': 'no-store',
  });
  res.end(`<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>デモ処方システム</title>
<style>body{font-family:sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.3rem .6rem;text-align:left}a.button{display:inline-block;padding:.6rem 1rem;
background:#1d4f91;color:#fff;text-decoration:none;border-radius:.3rem}</style></head><body>
<h1>デモ処方システム <small lang="en">(demo relying service)</small></h1>${body}</body></html>`);
}

function session(req, res) {
  const m = /(?:^|;\s*)rp_session=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? '');
  if (m && sessions.has(m[1])) return sessions.get(m[1]);
  const id = randomBytes(32).toString('base64url');
  const s = {};
  sessions.set(id, s);
  res.setHeader('set-cookie', `rp_session=${id}; Path=/; HttpOnly; SameSite=Lax`);
  return s;
}

function claimsTable(claims) {
  const rows = Object.entries(claims)
    .map(([k, v]) => `<tr><th>${escape(k)}</th><td data-claim="${escape(k)}">${escape(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`)
    .join('');
  return `<table>${rows}</table>`;
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, base);
  const s = session(req, res);
  try {
    if (url.pathname === '/') {
      if (s.claims) {
        return page(res, 200, `<p id="signed-in">本人確認が完了しました (signed in).</p>
<h2>IDトークン (ID token claims)</h2>${claimsTable(s.claims)}
<h2>UserInfo</h2>${claimsTable(s.userinfo)}
<p><a class="button" id="again" href="/login">もう一度ログイン (sign in again)</a></p>`);
      }
      return page(res, 200, `<p>HPKIセカンド電子証明書管理・認証プラットフォームで本人確認をします。</p>
<p><a class="button" id="login" href="/login">HPKIプラットフォームでログイン (Sign in)</a></p>`);
    }
    if (url.pathname === '/login') {
      s.verifier = client.randomPKCECodeVerifier();
      s.state = client.randomState();
      s.nonce = client.randomNonce();
      const params = {
        redirect_uri: redirectUri,
        scope: 'openid profile',
        code_challenge: await client.calculatePKCECodeChallenge(s.verifier),
        code_challenge_method: 'S256',
        state: s.state,
        nonce: s.nonce,
      };
      if (url.searchParams.get('prompt') === 'login') params.prompt = 'login';
      res.writeHead(303, { location: client.buildAuthorizationUrl(config, params).href });
      return res.end();
    }
    if (url.pathname === '/callback') {
      if (url.searchParams.get('error')) {
        return page(res, 400, `<p id="rp-error">${escape(url.searchParams.get('error'))}: ${escape(url.searchParams.get('error_description') ?? '')}</p><p><a href="/">戻る</a></p>`);
      }
      const tokens = await client.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: s.verifier,
        expectedState: s.state,
        expectedNonce: s.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      s.claims = claims;
      s.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      delete s.verifier;
      res.writeHead(303, { location: '/' });
      return res.end();
    }
    page(res, 404, '<p>Not found</p>');
  } catch (e) {
    console.error('rp:', e);
    page(res, 500, `<p id="rp-error">${escape(e.message)}</p>`);
  }
});

server.listen(port, '127.0.0.1', () => console.log(`rp listening on ${base}`));
