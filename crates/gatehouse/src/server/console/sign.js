// AWS Signature Version 4 for the console's requests, as the AWS SDKs sign a non-S3 service
// (the path percent-encoded a second time, the query sorted, `host` and `x-amz-date` signed),
// in plain JavaScript: Web Crypto exists only on https:// and localhost pages, and a shared
// gatehouse is often reached over http:// by its name. SHA-256 and HMAC are FIPS 180-4 and
// RFC 2104; `sigv4.sign` gives the headers (or, `presign`, the URL) for one request.
"use strict";

const sigv4 = (() => {
  const K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ];
  const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const utf8 = (s) => new TextEncoder().encode(s);
  const bytes = (x) => (typeof x === "string" ? utf8(x) : x);
  const ror = (x, n) => (x >>> n) | (x << (32 - n));

  function sha256(data) {
    const input = bytes(data);
    const padded = new Uint8Array(((input.length + 72) >> 6) << 6);
    padded.set(input);
    padded[input.length] = 0x80;
    const view = new DataView(padded.buffer);
    const bits = input.length * 8;
    view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
    view.setUint32(padded.length - 4, bits >>> 0);
    const h = [...H0];
    const w = new Uint32Array(64);
    for (let at = 0; at < padded.length; at += 64) {
      for (let i = 0; i < 16; i++) w[i] = view.getUint32(at + 4 * i);
      for (let i = 16; i < 64; i++) {
        const s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        const s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      let [a, b, c, d, e, f, g, k] = h;
      for (let i = 0; i < 64; i++) {
        const t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      [a, b, c, d, e, f, g, k].forEach((x, i) => { h[i] = (h[i] + x) | 0; });
    }
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    h.forEach((x, i) => outView.setUint32(4 * i, x >>> 0));
    return out;
  }

  function hmac(key, message) {
    let k = bytes(key);
    if (k.length > 64) k = sha256(k);
    const inner = new Uint8Array(64), outer = new Uint8Array(64);
    for (let i = 0; i < 64; i++) {
      inner[i] = (k[i] || 0) ^ 0x36;
      outer[i] = (k[i] || 0) ^ 0x5c;
    }
    const m = bytes(message);
    const first = new Uint8Array(64 + m.length);
    first.set(inner);
    first.set(m, 64);
    const second = new Uint8Array(96);
    second.set(outer);
    second.set(sha256(first), 64);
    return sha256(second);
  }

  const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

  function canonicalPath(path) {
    const segments = path.split("/").filter((s) => s && s !== ".");
    const joined = `/${segments.map(encode).join("/")}`;
    return segments.length && path.endsWith("/") ? `${joined}/` : joined;
  }

  function canonicalQuery(query) {
    const pairs = query.split("&").filter(Boolean).map((pair) => {
      const at = pair.indexOf("=");
      const [k, v] = at < 0 ? [pair, ""] : [pair.slice(0, at), pair.slice(at + 1)];
      return `${encode(decodeURIComponent(k))}=${encode(decodeURIComponent(v))}`;
    });
    return pairs.sort().join("&");
  }

  // The headers that sign `method url` with `body` for `service` in `region` with `keys`
  // ({id, secret, token}); with `presign`, the URL that carries its signature instead.
  function sign({ method, url, body = "", service, region, keys, presign = false }) {
    const u = new URL(url, location.href);
    const date = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
    const day = date.slice(0, 8);
    const scope = `${day}/${region}/${service}/aws4_request`;
    const headers = {};
    let query = u.search.slice(1);
    if (presign) {
      const extra = [["X-Amz-Algorithm", "AWS4-HMAC-SHA256"], ["X-Amz-Credential", `${keys.id}/${scope}`],
        ["X-Amz-Date", date], ["X-Amz-Expires", "3600"], ["X-Amz-SignedHeaders", "host"]];
      if (keys.token) extra.push(["X-Amz-Security-Token", keys.token]);
      query = [query, ...extra.map(([k, v]) => `${k}=${encode(v)}`)].filter(Boolean).join("&");
    } else {
      headers["x-amz-date"] = date;
      if (keys.token) headers["x-amz-security-token"] = keys.token;
    }
    const names = ["host", ...Object.keys(headers)].sort();
    const values = { host: u.host, ...headers };
    const request = [method, canonicalPath(u.pathname), canonicalQuery(query),
      ...names.map((n) => `${n}:${values[n]}`), "", names.join(";"), hex(sha256(body))].join("\n");
    const toSign = ["AWS4-HMAC-SHA256", date, scope, hex(sha256(request))].join("\n");
    let key = hmac(`AWS4${keys.secret}`, day);
    for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
    const signature = hex(hmac(key, toSign));
    if (presign) return { url: `${u.pathname}?${query}&X-Amz-Signature=${signature}`, headers: {} };
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${keys.id}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
    return { url: u.pathname + u.search, headers };
  }

  return { sign, sha256: (s) => hex(sha256(s)), hmac: (k, m) => hex(hmac(k, m)) };
})();
