// A small relying web app ("デモ処方システム") for the demo and the end-to-end test: it signs a
// holder in through the platform's OpenID Provider with the authorization code flow (PKCE S256,
// state, nonce, client_secret_basic) using the `openid-client` library, which checks discovery,
// the JWKS, the ID token's signature, issuer, audience, expiry and nonce itself, then shows the
// ID token's claims and the userinfo answer. Two ways in: 「ログインして処方箋に署名」 asks for
// scopes `openid profile service` (`service`: the CSC API's scope for signing with the holder's
// HPKI second certificate, which the platform's consent page names), 「ログインのみ」 for
// `openid profile` (sign-in only: the platform refuses such a token every CSC call but info).
// Signed in with `service`, 「処方箋に署名」 signs a sample prescription through the platform's
// CSC API v2 (credentials/list, credentials/authorize bound to the prescription's SHA-256,
// signatures/signHash) and verifies the signature itself with node's crypto against the
// credential's certificate.
//
// Environment: MAHPKI_ISSUER (the platform's public origin), RP_CLIENT_ID, RP_CLIENT_SECRET,
// RP_PORT (default 8090). It listens on 127.0.0.1 and prints "rp listening on http://…".
import { X509Certificate, createHash, randomBytes, timingSafeEqual, verify } from 'node:crypto';
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
td,th{border:1px solid #999;padding:.3rem .6rem;text-align:left}button.button{padding:.6rem 1rem;font:inherit;
background:#1d4f91;color:#fff;border:0;border-radius:.3rem;cursor:pointer}a.button{display:inline-block;padding:.6rem 1rem;
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

/** The sample prescription the service signs (a real one is the XAdES SignedInfo's hash). */
const PRESCRIPTION = `処方箋 (デモ)
患者: 山田 花子  生年月日: 1980-04-01
Rp1 アムロジピン錠5mg 1錠 1日1回 朝食後 14日分
Rp2 ロキソプロフェンナトリウム錠60mg 1錠 疼痛時 10回分
交付年月日: ${new Date().toISOString().slice(0, 10)}
`;
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
/** What each way in asks for; `service` lets the platform's CSC API sign for the holder. */
const SIGN_IN_SCOPE = 'openid profile';
const SIGNING_SCOPE = 'openid profile service';
const SHA256 = '2.16.840.1.101.3.4.2.1';

/** One CSC API v2 call with the holder's access token; a refusal throws with its error. */
async function csc(accessToken, method, body) {
  const res = await fetch(new URL(`/csc/v2/${method}`, issuer), {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${method}: ${answer.error}: ${answer.error_description}`);
  return answer;
}

/** Signs PRESCRIPTION with the holder's first credential and verifies the signature. */
async function signPrescription(accessToken) {
  const list = await csc(accessToken, 'credentials/list', { credentialInfo: true });
  const info = list.credentialInfos?.[0];
  if (!info) throw new Error('この医師・薬剤師にはHPKIセカンド電子証明書がありません (no credential).');
  const data = Buffer.from(PRESCRIPTION, 'utf8');
  const hash = createHash('sha256').update(data).digest('base64');
  const { SAD } = await csc(accessToken, 'credentials/authorize', {
    credentialID: info.credentialID, numSignatures: 1, hashes: [hash], hashAlgorithmOID: SHA256,
  });
  const { signatures } = await csc(accessToken, 'signatures/signHash', {
    credentialID: info.credentialID, SAD, hashes: [hash], hashAlgorithmOID: SHA256, signAlgo: SHA256_WITH_RSA,
  });
  const signature = Buffer.from(signatures[0], 'base64');
  const certificate = new X509Certificate(Buffer.from(info.cert.certificates[0], 'base64'));
  const valid = verify('sha256', data, certificate.publicKey, signature);
  return { credentialID: info.credentialID, subject: certificate.subject, issuer: certificate.issuer, hash, signature: signatures[0], valid };
}

function signForm(s) {
  if (!s.scope?.split(' ').includes('service')) {
    return `<p id="no-signing">署名の許可を得ていないため、このままでは署名できません (signed in only: not allowed to sign).</p>
<p><a class="button" id="login-sign" href="/login?signing=1">署名の許可を求めてログインし直す (sign in again to sign)</a></p>`;
  }
  return `<form method="post" action="/sign"><input type="hidden" name="csrf" value="${escape(s.csrf)}">
<button class="button" id="sign" type="submit">処方箋に署名 (sign the prescription)</button></form>`;
}

function signResult(r) {
  const verdict = r.valid
    ? '<p id="sign-verified" role="status">署名を検証しました: 有効です (the signature verifies with the certificate).</p>'
    : '<p id="sign-invalid" role="alert">署名の検証に失敗しました (the signature does not verify).</p>';
  return `<h2>署名結果 (signature)</h2>${verdict}
<table><tr><th>credentialID</th><td id="sign-credential">${escape(r.credentialID)}</td></tr>
<tr><th>証明書 (subject)</th><td>${escape(r.subject)}</td></tr>
<tr><th>発行者 (issuer)</th><td>${escape(r.issuer)}</td></tr>
<tr><th>SHA-256</th><td><code id="sign-hash">${escape(r.hash)}</code></td></tr>
<tr><th>署名値 (signature)</th><td><code id="sign-value" style="word-break:break-all">${escape(r.signature)}</code></td></tr></table>`;
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
<h2>処方箋 (prescription)</h2><pre id="prescription">${escape(PRESCRIPTION)}</pre>${signForm(s)}
${s.signed ? signResult(s.signed) : ''}${s.signError ? `<p id="sign-error" role="alert">${escape(s.signError)}</p>` : ''}
<h2>IDトークン (ID token claims)</h2>${claimsTable(s.claims)}
<h2>UserInfo</h2>${claimsTable(s.userinfo)}
<p><a class="button" id="again" href="${s.signing ? '/login?signing=1' : '/login'}">もう一度ログイン (sign in again)</a></p>`);
      }
      return page(res, 200, `<p>HPKIセカンド電子証明書管理・認証プラットフォームで本人確認をします。</p>
<p><a class="button" id="login-sign" href="/login?signing=1">ログインして処方箋に署名 (sign in to sign prescriptions)</a></p>
<p><a class="button" id="login" href="/login">ログインのみ (sign in only)</a></p>`);
    }
    if (url.pathname === '/login') {
      s.verifier = client.randomPKCECodeVerifier();
      s.state = client.randomState();
      s.nonce = client.randomNonce();
      s.signing = url.searchParams.get('signing') === '1';
      const params = {
        redirect_uri: redirectUri,
        scope: s.signing ? SIGNING_SCOPE : SIGN_IN_SCOPE,
        code_challenge: await client.calculatePKCECodeChallenge(s.verifier),
        code_challenge_method: 'S256',
        state: s.state,
        nonce: s.nonce,
      };
      if (url.searchParams.get('prompt') === 'login') params.prompt = 'login';
      res.writeHead(303, { location: client.buildAuthorizationUrl(config, params).href });
      return res.end();
    }
    if (url.pathname === '/sign' && req.method === 'POST') {
      let form = '';
      for await (const chunk of req) form += chunk;
      const csrf = Buffer.from(new URLSearchParams(form).get('csrf') ?? '');
      if (!s.accessToken || !s.csrf || csrf.length !== s.csrf.length || !timingSafeEqual(csrf, Buffer.from(s.csrf))) {
        return page(res, 403, '<p id="rp-error">もう一度ログインしてください (sign in first).</p><p><a href="/">戻る</a></p>');
      }
      delete s.signed;
      delete s.signError;
      try {
        s.signed = await signPrescription(s.accessToken);
      } catch (e) {
        s.signError = e.message;
      }
      res.writeHead(303, { location: '/' });
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
      // Kept on the server for the CSC API; the browser only sees this app's cookie.
      s.accessToken = tokens.access_token;
      s.scope = tokens.scope ?? '';
      s.csrf = randomBytes(32).toString('base64url');
      delete s.signed;
      delete s.signError;
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
