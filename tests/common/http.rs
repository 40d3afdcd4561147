//! A small HTTP/1.1 server on 127.0.0.1 for the tests that verify keys (`GET /v1/me`): one
//! thread per connection, `Connection: close`, GET without body; and a command without the
//! proxies of the environment, so requests reach it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Removes the proxy variables of the environment from `cmd`.
pub fn without_proxies(cmd: &mut Command) -> &mut Command {
    for v in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    /// The whole head, as received.
    pub head: String,
}

pub enum Reply {
    Answer {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Keep the connection open and never answer.
    Hang,
}

pub fn answer(status: u16, body: &str) -> Reply {
    Reply::Answer {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

/// Handler: the request and how many requests with the same `Authorization` came so far
/// (1 for the first).
pub type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

pub struct Server {
    pub port: u16,
    log: Arc<Mutex<Vec<Request>>>,
    pub max_in_flight: Arc<AtomicUsize>,
}

impl Server {
    pub fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, max2) = (log.clone(), max_in_flight.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, in_flight, max, handler) = (
                    log2.clone(),
                    in_flight.clone(),
                    max2.clone(),
                    handler.clone(),
                );
                thread::spawn(move || serve(stream, &log, &in_flight, &max, &*handler));
            }
        });
        Server {
            port,
            log,
            max_in_flight,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }
}

fn serve(
    stream: TcpStream,
    log: &Mutex<Vec<Request>>,
    in_flight: &AtomicUsize,
    max: &AtomicUsize,
    handler: &Handler,
) {
    let mut reader = BufReader::new(&stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" {
            break;
        }
    }
    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    max.fetch_max(now, Ordering::SeqCst);
    let mut parts = head.lines().next().unwrap_or_default().split(' ');
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let request = Request {
        method: parts.next().unwrap_or_default().to_string(),
        target: parts.next().unwrap_or_default().to_string(),
        authorization: header("authorization"),
        user_agent: header("user-agent"),
        head: head.clone(),
    };
    let nth = {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        log.iter()
            .filter(|r| r.authorization == request.authorization)
            .count()
    };
    let reply = handler(&request, nth);
    in_flight.fetch_sub(1, Ordering::SeqCst);
    match reply {
        Reply::Answer {
            status,
            headers,
            body,
        } => {
            let mut text = format!(
                "HTTP/1.1 {status} Test\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                text.push_str(&format!("{k}: {v}\r\n"));
            }
            text.push_str("\r\n");
            text.push_str(&body);
            let mut s = &stream;
            let _ = s.write_all(text.as_bytes());
            let _ = s.flush();
        }
        Reply::Hang => thread::sleep(Duration::from_secs(120)),
    }
}
