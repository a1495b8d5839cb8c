//! `agnhost test-webserver` (test/images/agnhost/test-webserver): Go's http.FileServer over
//! the root directory on `--port` (80), with CORS and `Cache-Control: private` headers.
//! `GET /` is a directory listing of `/`, not a fixed greeting. A component usually sees no
//! root filesystem, so when `/` cannot be listed a fixed listing of a typical agnhost image
//! root stands in (approximate); files are served when the component can read them.

use crate::flags::{Kind, Spec};
use crate::http::{clean_path, html_escape, sniff_content_type, Request, Response};
use crate::server::{App, Drain, Outcome};
use std::net::SocketAddr;
use std::path::Path;

pub const FLAGS: [Spec; 1] = [Spec {
    name: "port",
    kind: Kind::Int,
    default: "80",
}];

/// Stand-in root listing (the agnhost image: its binary plus a small Linux tree).
const FALLBACK_ROOT: [&str; 16] = [
    "agnhost", "bin/", "dev/", "etc/", "home/", "lib/", "media/", "mnt/", "opt/", "proc/", "root/",
    "run/", "sbin/", "sys/", "tmp/", "usr/",
];

pub struct TestWebserver;

impl TestWebserver {
    pub fn route(&self, request: &Request, root: &Path) -> Response {
        let served = serve_file(request, root);
        served
            .with_header("Cache-Control", "private")
            .with_header("Access-Control-Allow-Origin", "*")
            .with_header("Access-Control-Allow-Credentials", "true")
            .with_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            .with_header(
                "Access-Control-Allow-Headers",
                "DNT,X-Mx-ReqToken,Keep-Alive,User-Agent,X-Requested-With,Cache-Control,Content-Type",
            )
    }
}

/// Go's serveFile with redirects enabled.
fn serve_file(request: &Request, root: &Path) -> Response {
    let url_path = if request.path.starts_with('/') {
        request.path.clone()
    } else {
        format!("/{}", request.path)
    };
    let name = clean_path(&url_path);
    if url_path.ends_with("/index.html") {
        return local_redirect(request, "./");
    }
    let on_disk = root.join(name.trim_start_matches('/'));
    if name == "/" {
        return directory_listing(&on_disk, true);
    }
    let Ok(metadata) = std::fs::metadata(&on_disk) else {
        return Response::not_found();
    };
    let base = name.rsplit('/').next().unwrap_or("");
    if metadata.is_dir() {
        if !url_path.ends_with('/') {
            return local_redirect(request, &format!("{base}/"));
        }
        let index = on_disk.join("index.html");
        if let Ok(page) = std::fs::read(index) {
            return Response::ok(page).with_header("Content-Type", "text/html; charset=utf-8");
        }
        return directory_listing(&on_disk, false);
    }
    if url_path.ends_with('/') {
        return local_redirect(request, &format!("../{base}"));
    }
    match std::fs::read(&on_disk) {
        Ok(contents) => {
            let content_type = sniff_content_type(&contents);
            Response::ok(contents).with_header("Content-Type", content_type)
        }
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            Response::go_error(403, "403 Forbidden")
        }
        Err(_) => Response::go_error(500, "500 Internal Server Error"),
    }
}

fn local_redirect(request: &Request, target: &str) -> Response {
    let location = if request.raw_query.is_empty() {
        target.to_string()
    } else {
        format!("{target}?{}", request.raw_query)
    };
    Response::new(301, Vec::new()).with_header("Location", &location)
}

/// Go's dirList: names sorted, directories with a trailing slash.
fn directory_listing(directory: &Path, is_root: bool) -> Response {
    let mut names: Vec<String> = match std::fs::read_dir(directory) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                match entry.file_type() {
                    Ok(kind) if kind.is_dir() => format!("{name}/"),
                    _ => name,
                }
            })
            .collect(),
        Err(_) if is_root => Vec::new(),
        Err(_) => return Response::go_error(500, "Error reading directory"),
    };
    if names.is_empty() && is_root {
        names = FALLBACK_ROOT.iter().map(|name| name.to_string()).collect();
    }
    names.sort();
    let mut page = String::from(
        "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n",
    );
    for name in &names {
        let href = name
            .replace('%', "%25")
            .replace(' ', "%20")
            .replace('#', "%23")
            .replace('?', "%3F");
        page.push_str(&format!(
            "<a href=\"{}\">{}</a>\n",
            html_escape(&href),
            html_escape(name)
        ));
    }
    page.push_str("</pre>\n");
    Response::ok(page).with_header("Content-Type", "text/html; charset=utf-8")
}

impl App for TestWebserver {
    fn handle(&mut self, request: &Request, _peer: SocketAddr) -> Outcome {
        Outcome::Respond(self.route(request, Path::new("/")))
    }

    fn on_stop(&mut self) -> Drain {
        Drain::GO_DEFAULT_SIGTERM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("agnhost-webserver-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).expect("scratch dir");
        std::fs::write(dir.join("hello.txt"), "hi there").expect("file");
        dir
    }

    #[test]
    fn lists_serves_and_redirects_like_file_server() {
        let root = scratch();
        let app = TestWebserver;
        let listing = app.route(&Request::get("/"), &root);
        assert_eq!(listing.status, 200);
        assert_eq!(
            String::from_utf8_lossy(&listing.body),
            "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n<a href=\"hello.txt\">hello.txt</a>\n<a href=\"sub/\">sub/</a>\n</pre>\n"
        );
        assert_eq!(listing.header("cache-control"), Some("private"));
        let file = app.route(&Request::get("/hello.txt"), &root);
        assert_eq!((file.status, file.body.as_slice()), (200, &b"hi there"[..]));
        let redirect = app.route(&Request::get("/sub"), &root);
        assert_eq!(
            (redirect.status, redirect.header("location")),
            (301, Some("sub/"))
        );
        let missing = app.route(&Request::get("/nope"), &root);
        assert_eq!(
            (missing.status, missing.body.as_slice()),
            (404, &b"404 page not found\n"[..])
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn unreadable_root_falls_back_to_a_fixed_listing() {
        let app = TestWebserver;
        let listing = app.route(&Request::get("/"), Path::new("/nonexistent-agnhost-root"));
        let page = String::from_utf8_lossy(&listing.body);
        assert!(
            page.contains("<a href=\"agnhost\">agnhost</a>\n<a href=\"bin/\">bin/</a>\n"),
            "{page}"
        );
    }
}
