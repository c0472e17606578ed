// sigv4_proxy.mjs: a SigV4-verifying HTTP proxy in front of s3rver (which does not check
// signatures), for sluice's S3 tests. It
//   - recomputes every request's canonical request and signature from what arrived on the wire
//     (path and query decoded and re-encoded with S3's rules, signed headers, payload hash) and
//     answers 403 SignatureDoesNotMatch (with the canonical request it computed) on a mismatch,
//     403 InvalidAccessKeyId / AccessDenied for an unknown or missing key;
//   - requires x-amz-content-sha256 (signed) and checks it against the body unless it is
//     UNSIGNED-PAYLOAD; checks Content-MD5 (400 BadDigest);
//   - implements ListMultipartUploads and AbortMultipartUpload on s3rver's data directory
//     (s3rver 3.7.1 answers NotImplemented / 405 to them);
//   - answers a PUT / UploadPart / CompleteMultipartUpload only once s3rver's file has all its
//     bytes on disk: s3rver 3.7.1 replies when its hashing stream ends, before its file write
//     stream has flushed, so a CompleteMultipartUpload right after the last UploadPart could
//     concatenate a short part (seen as a truncated Parquet object);
//   - injects faults on demand for retry tests: POST /__sluice/fault?op=OP&count=N&status=503
//     &code=SlowDown (or &action=hang / &action=reset); GET /__sluice/log lists the requests it
//     saw as JSON lines; POST /__sluice/reset clears both.
// usage: node sigv4_proxy.mjs --port P --upstream PORT --s3rver-dir DIR
//        [--access-key S3RVER --secret S3RVER --region us-east-1]
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) =>
  (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const KEYS = { [args['access-key'] || 'S3RVER']: args.secret || 'S3RVER' };
const REGION = args.region || 'us-east-1';
const UPSTREAM = Number(args.upstream);
const DIR = args['s3rver-dir'];
let faults = []; // {op, left, status, code, action}
let log = [];

const enc = s => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const dec = s => { try { return decodeURIComponent(s); } catch { return null; } };
const xml = (code, msg, extra = '') => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${msg}</Message>${extra}<RequestId>sluice-proxy</RequestId></Error>`;
const esc = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();

function classify(method, p, q) {
  const obj = p.split('/').filter(Boolean).length > 1;
  if (method === 'HEAD' && !obj) return 'head';
  if (method === 'GET' && !obj && q.has('uploads')) return 'list';
  if (method === 'POST' && q.has('uploads')) return 'create';
  if (method === 'PUT' && q.has('partNumber')) return 'part';
  if (method === 'POST' && q.has('uploadId')) return 'complete';
  if (method === 'DELETE' && q.has('uploadId')) return 'abort';
  if (method === 'PUT' && obj) return 'put';
  if (method === 'GET' && obj) return 'get';
  return 'other';
}

// returns null when the signature is right, else [status, code, message, extraXml]
function verify(req, rawPath, rawQuery, body) {
  const auth = req.headers.authorization;
  if (!auth) return [403, 'AccessDenied', 'Anonymous access is forbidden'];
  const m = auth.match(/^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/);
  if (!m) return [400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed'];
  const [, ak, day, region, service, signedList, sig] = m;
  if (!(ak in KEYS)) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  if (region !== REGION || service !== 's3') return [400, 'AuthorizationHeaderMalformed', `the region '${region}' is wrong; expecting '${REGION}'`];
  const amz = req.headers['x-amz-date'] || '';
  const payload = req.headers['x-amz-content-sha256'];
  const signed = signedList.split(';');
  if (!payload) return [400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256'];
  for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!signed.includes(h)) return [403, 'AccessDenied', `header ${h} must be signed`];
  if (!amz.startsWith(day)) return [403, 'SignatureDoesNotMatch', 'credential date does not match x-amz-date'];
  const t = Date.UTC(+amz.slice(0, 4), +amz.slice(4, 6) - 1, +amz.slice(6, 8), +amz.slice(9, 11), +amz.slice(11, 13), +amz.slice(13, 15));
  if (!(Math.abs(Date.now() - t) < 15 * 60 * 1000)) return [403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'];
  const segs = rawPath.split('/').map(dec);
  if (segs.includes(null)) return [400, 'InvalidURI', 'bad percent-encoding in the path'];
  const curi = segs.map(enc).join('/');
  const pairs = rawQuery ? rawQuery.split('&').map(kv => { const i = kv.indexOf('='); return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)]; }) : [];
  const qp = pairs.map(([k, v]) => [dec(k), dec(v)]);
  if (qp.some(([k, v]) => k === null || v === null)) return [400, 'InvalidURI', 'bad percent-encoding in the query'];
  const cq = qp.map(([k, v]) => [enc(k), enc(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  const values = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const n = req.rawHeaders[i].toLowerCase();
    (values[n] ||= []).push(req.rawHeaders[i + 1].trim().replace(/\s+/g, ' '));
  }
  for (const h of signed) if (!(h in values)) return [403, 'SignatureDoesNotMatch', `signed header ${h} is missing`];
  const creq = [req.method, curi, cq, ...signed.map(h => `${h}:${values[h].join(',')}`), '', signedList, payload].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amz, scope, crypto.createHash('sha256').update(creq).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + KEYS[ak], day), region), 's3'), 'aws4_request');
  const want = hmac(key, sts).toString('hex');
  if (!crypto.timingSafeEqual(Buffer.from(want), Buffer.from(sig)))
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      `<CanonicalRequest>${esc(creq)}</CanonicalRequest><StringToSign>${esc(sts)}</StringToSign>`];
  if (payload !== 'UNSIGNED-PAYLOAD' && crypto.createHash('sha256').update(body).digest('hex') !== payload)
    return [400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed."];
  const md5 = req.headers['content-md5'];
  if (md5 && crypto.createHash('md5').update(body).digest('base64') !== md5)
    return [400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.'];
  return null;
}

// s3rver keeps unfinished uploads in DIR/BUCKET/._S3rver_uploads/ID/{key,metadata,N}
function uploadsDir(bucket) { return path.join(DIR, bucket, '._S3rver_uploads'); }

function listUploads(bucket, prefix) {
  if (!fs.existsSync(path.join(DIR, bucket))) return [404, xml('NoSuchBucket', 'The specified bucket does not exist')];
  const d = uploadsDir(bucket);
  const ups = fs.existsSync(d) ? fs.readdirSync(d) : [];
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${esc(bucket)}</Bucket><Prefix>${esc(prefix)}</Prefix><IsTruncated>false</IsTruncated>`;
  for (const id of ups) {
    let key;
    try { key = fs.readFileSync(path.join(d, id, 'key'), 'utf8'); } catch { continue; }
    if (!key.startsWith(prefix)) continue;
    const st = fs.statSync(path.join(d, id));
    out += `<Upload><Key>${esc(key)}</Key><UploadId>${esc(id)}</UploadId><Initiated>${st.mtime.toISOString()}</Initiated></Upload>`;
  }
  return [200, out + '</ListMultipartUploadsResult>'];
}

function abortUpload(bucket, id) {
  const d = path.join(uploadsDir(bucket), path.basename(id));
  if (!id || !fs.existsSync(d)) return [404, xml('NoSuchUpload', 'The specified upload does not exist.')];
  fs.rmSync(d, { recursive: true, force: true });
  return [204, ''];
}

function objectPath(bucket, key) { return path.join(DIR, bucket, key + '._S3rver_object'); }
function partPath(bucket, id, n) { return path.join(uploadsDir(bucket), path.basename(id), String(Number(n))); }
function sizeOf(p) { try { return fs.statSync(p).size; } catch { return -1; } }
async function waitSize(p, want) {
  for (let i = 0; i < 1000 && sizeOf(p) !== want; i++) await new Promise(r => setTimeout(r, 5));
}

function answer(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const qi = req.url.indexOf('?');
  const rawPath = qi < 0 ? req.url : req.url.slice(0, qi);
  const rawQuery = qi < 0 ? '' : req.url.slice(qi + 1);
  const q = new URLSearchParams(rawQuery);
  if (rawPath.startsWith('/__sluice/')) {
    const what = rawPath.slice(10);
    if (what === 'fault') {
      faults.push({ op: q.get('op') || 'any', left: Number(q.get('count') || 1), status: Number(q.get('status') || 503), code: q.get('code') || 'SlowDown', action: q.get('action') || 'status' });
      return answer(res, 200, 'ok\n');
    }
    if (what === 'reset') { faults = []; log = []; return answer(res, 200, 'ok\n'); }
    if (what === 'log') return answer(res, 200, log.map(l => JSON.stringify(l)).join('\n') + (log.length ? '\n' : ''));
    return answer(res, 404, 'unknown control\n');
  }
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const op = classify(req.method, rawPath, q);
    const entry = { method: req.method, path: rawPath, query: rawQuery, op, bytes: body.length };
    log.push(entry);
    const f = faults.find(x => x.left > 0 && (x.op === 'any' || x.op === op));
    if (f) {
      f.left--;
      entry.fault = f.action === 'status' ? f.status : f.action;
      if (f.action === 'hang') return; // never answer; the client must time out
      if (f.action === 'reset') return req.socket.destroy();
      entry.status = f.status;
      return answer(res, f.status, xml(f.code, 'injected by sigv4_proxy'), f.status === 503 ? { 'Retry-After': '1' } : {});
    }
    const bad = verify(req, rawPath, rawQuery, body);
    if (bad) {
      entry.status = bad[0];
      entry.error = bad[1];
      return answer(res, bad[0], req.method === 'HEAD' ? '' : xml(bad[1], esc(bad[2]), bad[3] || ''));
    }
    const bucket = dec(rawPath.split('/')[1] || '');
    if (op === 'list') { const [st, b] = listUploads(bucket, q.get('prefix') || ''); entry.status = st; return answer(res, st, b); }
    if (op === 'abort') { const [st, b] = abortUpload(bucket, q.get('uploadId')); entry.status = st; return answer(res, st, b); }
    const key = dec(rawPath.split('/').slice(2).join('/'));
    let want = -1, file = null;
    if (op === 'put') { file = objectPath(bucket, key); want = body.length; }
    if (op === 'part') { file = partPath(bucket, q.get('uploadId'), q.get('partNumber')); want = body.length; }
    if (op === 'complete') {
      file = objectPath(bucket, key);
      want = [...body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)]
        .reduce((t, m) => t + Math.max(0, sizeOf(partPath(bucket, q.get('uploadId'), m[1]))), 0);
    }
    const up = http.request({ host: '127.0.0.1', port: UPSTREAM, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(body.length) } }, ur => {
      const out = [];
      ur.on('data', c => out.push(c));
      ur.on('end', async () => {
        if (file && ur.statusCode === 200) await waitSize(file, want);
        entry.status = ur.statusCode;
        res.writeHead(ur.statusCode, ur.headers);
        res.end(Buffer.concat(out));
      });
    });
    up.on('error', e => { entry.status = 503; answer(res, 503, xml('ServiceUnavailable', esc('upstream s3rver: ' + e.message))); });
    up.end(body);
  });
});
server.keepAliveTimeout = 30000;
server.listen(Number(args.port || 0), '127.0.0.1', () => {
  console.log(`sigv4_proxy listening on 127.0.0.1:${server.address().port} -> ${UPSTREAM}`);
});
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); process.exit(0); });
