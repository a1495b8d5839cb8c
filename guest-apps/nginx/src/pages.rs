//! What nginx's default server (`/etc/nginx/conf.d/default.conf` of the official image)
//! answers: `/` and `/index.html` serve the welcome page, `/50x.html` its error page,
//! everything else nginx's built-in 404 page; other methods than GET/HEAD get 405.

pub const VERSION: &str = "nginx/1.27.5";

/// `/usr/share/nginx/html/index.html` of the nginx image (615 bytes).
pub const WELCOME_PAGE: &str = "<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href=\"http://nginx.org/\">nginx.org</a>.<br/>
Commercial support is available at
<a href=\"http://nginx.com/\">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
";

/// `/usr/share/nginx/html/50x.html` of the nginx image.
pub const ERROR_50X_PAGE: &str = "<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub status: u16,
    pub body: String,
}

/// nginx's built-in error page (ngx_http_special_response.c; CRLF line ends).
pub fn error_page(status: u16, title: &str) -> String {
    format!(
        "<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n<center><h1>{status} {title}</h1></center>\r\n<hr><center>{VERSION}</center>\r\n</body>\r\n</html>\r\n"
    )
}

/// The answer for a method and `path_with_query`; for HEAD the caller drops the body.
pub fn route(method: &str, path_with_query: &str) -> Page {
    let path = path_with_query.split('?').next().unwrap_or("/");
    let page = match normalize(path).as_str() {
        "/" | "/index.html" => Some(WELCOME_PAGE),
        "/50x.html" => Some(ERROR_50X_PAGE),
        _ => None,
    };
    match page {
        Some(_) if !matches!(method, "GET" | "HEAD") => Page {
            status: 405,
            body: error_page(405, "Not Allowed"),
        },
        Some(body) => Page {
            status: 200,
            body: body.to_string(),
        },
        None => Page {
            status: 404,
            body: error_page(404, "Not Found"),
        },
    }
}

/// nginx merges slashes and resolves `.`/`..` before matching locations.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let trailing = path.ends_with('/') && !parts.is_empty();
    let mut normalized = format!("/{}", parts.join("/"));
    if trailing {
        normalized.push('/');
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_serves_the_615_byte_welcome_page() {
        let page = route("GET", "/");
        assert_eq!(page.status, 200);
        assert_eq!(page.body.len(), 615);
        assert!(page.body.contains("<title>Welcome to nginx!</title>"));
        assert_eq!(route("GET", "/index.html?x=1").status, 200);
        assert_eq!(route("HEAD", "//./index.html").status, 200);
    }

    #[test]
    fn unknown_paths_get_nginx_404_page() {
        let page = route("GET", "/_status/healthz");
        assert_eq!(page.status, 404);
        assert_eq!(
            page.body,
            "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.5</center>\r\n</body>\r\n</html>\r\n"
        );
    }

    #[test]
    fn posting_to_a_static_page_is_405() {
        let page = route("POST", "/");
        assert_eq!(page.status, 405);
        assert!(page.body.contains("<title>405 Not Allowed</title>"));
    }
}
