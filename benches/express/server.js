// A benchmark comparison, not a service: the equivalent of a typical Express.js stack
// answering notes-api's authenticated `GET /notes` (helmet headers, a per-IP rate limit,
// a JWT bearer check with jsonwebtoken, the same SELECT through better-sqlite3).
// `benches/notes_load.sh` runs it next to notes-api on notes-api's own SQLite file, with
// the access tokens notes-api issued.
//
//   SECURE_JWT_KEY=... node server.js <ADDR:PORT> <SQLITE_FILE_PATH>
//   SECURE_JWT_KEY=... node server.js 127.0.0.1:3002 /tmp/notes.db
'use strict';

const crypto = require('node:crypto');
const Database = require('better-sqlite3');
const express = require('express');
const helmet = require('helmet');
const { rateLimit } = require('express-rate-limit');
const jwt = require('jsonwebtoken');

// notes-api's TOKEN_ISSUER and TOKEN_AUDIENCE (examples/notes-api/src/lib.rs).
const ISSUER = 'notes-api';
const AUDIENCE = 'notes-api';
// secure-core's DEFAULT_LEEWAY (5 s) and DEFAULT_LIFETIME (15 min) of access tokens.
const LEEWAY_SECS = 5;
const LIFETIME = '15m';
// The statement of notes-api's `AuthorizedList<Note>` for a first page, character for
// character. SQLite reads `$1` as a parameter named "1", so it is bound by that name below.
const LIST =
  'SELECT id, title, body, created_at FROM notes WHERE owner_id = $1 ORDER BY created_us, id LIMIT 100';
// What benches/notes_load.sh gives notes-api in SECURE_RATE_LIMIT: the limiter runs and
// counts every request but refuses none from the one load generator.
const RATE_LIMIT_PER_MIN = 1_000_000_000;

function fail(message) {
  console.error(`notes-express: ${message}`);
  process.exit(1);
}

const [addr, file] = process.argv.slice(2);
if (!addr || !file || process.argv.length !== 4) {
  fail('usage: SECURE_JWT_KEY=... node server.js <ADDR:PORT> <SQLITE_FILE_PATH>');
}
const colon = addr.lastIndexOf(':');
const host = addr.slice(0, colon);
const port = Number(addr.slice(colon + 1));
if (colon < 1 || !Number.isInteger(port) || port < 1 || port > 65535) {
  fail(`address must be HOST:PORT, not ${addr}`);
}

// The HS256 key is the bytes of SECURE_JWT_KEY as given (secure-core does not base64-decode
// it, nor trim it); at least 32 bytes, as secure-core requires. Made into a KeyObject once,
// so jsonwebtoken does not rebuild one from the bytes on every request.
const keyText = process.env.SECURE_JWT_KEY ?? '';
const keyBytes = Buffer.from(keyText, 'utf8');
if (keyText.trim() === '' || keyBytes.length < 32) {
  fail('SECURE_JWT_KEY must hold at least 32 bytes (for example `openssl rand -base64 48`)');
}
const key = crypto.createSecretKey(keyBytes);
const VERIFY = {
  algorithms: ['HS256'], // pinned: never the token's own `alg`
  issuer: ISSUER,
  audience: AUDIENCE,
  clockTolerance: LEEWAY_SECS,
  maxAge: LIFETIME, // requires `iat`; no token older than notes-api ever issues
};

// notes-api created the file in WAL mode; this process only reads it. Prepared once.
const db = new Database(file, { readonly: true, fileMustExist: true });
const list = db.prepare(LIST);

// secure-core's 401s (AuthError): problem+json, a fixed sentence, a Bearer challenge.
const MISSING = 'This resource needs authentication.';
const INVALID = 'The credentials are not valid.';
const EXPIRED = 'The credentials have expired.';
function unauthorized(res, detail) {
  res.set('WWW-Authenticate', detail === MISSING ? 'Bearer' : 'Bearer error="invalid_token"');
  res
    .status(401)
    .type('application/problem+json')
    .json({ type: 'about:blank', title: 'Unauthorized', status: 401, detail });
}

// `Authorization: Bearer <token>` as secure-core reads it: the scheme in any case, one or
// more spaces, a non-empty token. Sets req.user = { id } from the verified `sub`.
function authenticate(req, res, next) {
  const header = req.get('authorization');
  if (header === undefined) {
    return unauthorized(res, MISSING);
  }
  const space = header.indexOf(' ');
  const token = space < 0 ? '' : header.slice(space + 1).replace(/^ +/, '');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer' || token === '') {
    return unauthorized(res, INVALID);
  }
  let claims;
  try {
    claims = jwt.verify(token, key, VERIFY);
  } catch (e) {
    return unauthorized(res, e instanceof jwt.TokenExpiredError ? EXPIRED : INVALID);
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') {
    return unauthorized(res, INVALID);
  }
  req.user = { id: claims.sub };
  next();
}

const app = express();
app.use(helmet()); // security headers; also removes X-Powered-By
app.use(
  rateLimit({
    windowMs: 60_000,
    limit: RATE_LIMIT_PER_MIN,
    // `RateLimit` and `RateLimit-Policy` fields, as notes-api sends; no X-RateLimit-*.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
  }),
);
app.use(express.json({ limit: '16kb' }));

// The caller's notes, oldest first: the same rows and key order as notes-api's `Note`.
app.get('/notes', authenticate, (req, res) => {
  res.json(list.all({ 1: req.user.id }));
});

// Errors (a database failure) as a bare 500, no stack trace in the body.
app.use((err, req, res, next) => {
  if (res.headersSent) {
    return next(err);
  }
  console.error('notes-express:', err);
  res.status(500).type('application/problem+json').json({
    type: 'about:blank',
    title: 'Internal Server Error',
    status: 500,
  });
});

const server = app.listen(port, host, () => {
  console.log(`notes-express (benchmark comparison) listening on http://${addr}`);
});
server.on('error', (e) => fail(`listen on ${addr}: ${e.message}`));
