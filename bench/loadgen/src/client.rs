//! The load generator's HTTP/1.1 side: SigV4 signing with cached signatures, and one
//! keep-alive connection driven by hand (bytes out, `httparse` in).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Signer {
    pub key: String,
    pub secret: String,
    pub host: String,
    /// The signing name: `apigateway` for the management API, `execute-api` for
    /// `@connections`.
    pub service: &'static str,
}

/// Signed headers per distinct request, reused for up to a minute; one per connection so
/// the client spends no time on locks.
pub type SigCache = HashMap<(String, String, Vec<u8>), (u64, Arc<[u8]>)>;

impl Signer {
    pub fn headers(
        &self,
        cache: &mut SigCache,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Arc<[u8]> {
        let now = SystemTime::now();
        // A signature stays valid for minutes (the server allows 5 minutes of skew); reuse
        // it for up to 60 seconds.
        let sec = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() / 60)
            .unwrap_or(0);
        if let Some((at, h)) = cache.get(&(method.to_string(), path.to_string(), body.to_vec())) {
            if *at == sec {
                return h.clone();
            }
        }
        let k = (method.to_string(), path.to_string(), body.to_vec());
        let identity = Credentials::new(&self.key, &self.secret, None, None, "bench").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(self.service)
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let uri = format!("http://{}{}", self.host, path);
        let mut base = vec![("host".to_string(), self.host.clone())];
        if !body.is_empty() {
            base.push(("content-type".into(), "application/json".into()));
        }
        let signable = SignableRequest::new(
            method,
            &uri,
            base.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instr, _) = sign(signable, &params).unwrap().into_parts();
        let mut req = http::Request::builder().method(method).uri(&uri);
        for (k, v) in &base {
            req = req.header(k, v);
        }
        let mut req = req.body(()).unwrap();
        instr.apply_to_request_http1x(&mut req);
        // The header block as it goes on the wire (content-length is added per request).
        let mut block = Vec::new();
        for (name, value) in req.headers() {
            block.extend_from_slice(name.as_str().as_bytes());
            block.extend_from_slice(b": ");
            block.extend_from_slice(value.as_bytes());
            block.extend_from_slice(b"\r\n");
        }
        let h: Arc<[u8]> = block.into();
        // Seeding signs a million distinct requests; keep the cache small.
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(k, (sec, h.clone()));
        h
    }
}

/// One keep-alive HTTP/1.1 connection, driven in the task that uses it: the request is
/// written as bytes and the response read back with `httparse`, so the generator spends as
/// little CPU per request as it can (it shares the machine's cores with the server).
pub struct Conn {
    host: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    out: Vec<u8>,
}

impl Conn {
    pub async fn open(host: &str) -> Conn {
        let mut c = Conn {
            host: host.to_string(),
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
            out: Vec::with_capacity(4 * 1024),
        };
        c.reconnect().await;
        c
    }

    async fn reconnect(&mut self) {
        let stream = TcpStream::connect(&self.host).await.expect("connect");
        stream.set_nodelay(true).ok();
        self.stream = Some(stream);
        self.buf.clear();
    }

    /// Sends one request and returns (status, body); status 0 when the connection failed.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[u8],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        if self.stream.is_none() {
            self.reconnect().await;
        }
        self.out.clear();
        self.out.extend_from_slice(method.as_bytes());
        self.out.push(b' ');
        self.out.extend_from_slice(path.as_bytes());
        self.out.extend_from_slice(b" HTTP/1.1\r\n");
        self.out.extend_from_slice(headers);
        self.out
            .extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        self.out.extend_from_slice(body);
        match self.exchange().await {
            Some((status, body, close)) => {
                if close {
                    self.stream = None;
                }
                (status, body)
            }
            None => {
                self.stream = None;
                (0, Vec::new())
            }
        }
    }

    async fn exchange(&mut self) -> Option<(u16, Vec<u8>, bool)> {
        let stream = self.stream.as_mut()?;
        stream.write_all(&self.out).await.ok()?;
        self.buf.clear();
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = resp.parse(&self.buf).ok()? {
                let status = resp.code?;
                let mut close = resp.version == Some(0);
                let mut length = None;
                for h in resp.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        length = std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok();
                    } else if h.name.eq_ignore_ascii_case("connection") {
                        close = h.value.eq_ignore_ascii_case(b"close");
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        // Neither server in the benchmark sends chunked bodies.
                        return None;
                    }
                }
                let body = match length {
                    Some(n) => {
                        while self.buf.len() < head + n {
                            if read_more(stream, &mut self.buf).await? == 0 {
                                return None;
                            }
                        }
                        self.buf[head..head + n].to_vec()
                    }
                    None => {
                        // No length: the body runs to the end of the connection.
                        while read_more(stream, &mut self.buf).await? > 0 {}
                        close = true;
                        self.buf[head..].to_vec()
                    }
                };
                return Some((status, body, close));
            }
            if read_more(stream, &mut self.buf).await? == 0 {
                return None;
            }
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.ok()?;
    buf.extend_from_slice(&chunk[..n]);
    Some(n)
}

pub async fn call(
    s: &mut Conn,
    cache: &mut SigCache,
    signer: &Signer,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let headers = signer.headers(cache, method, path, body);
    s.send(method, path, &headers, body).await
}
