// Package page is the live leaderboard page and its client, leaderboard.js:
// plain HTML, CSS and JavaScript embedded in the binary, so web serves them
// with no build step and no CDN (the page works offline), from the API's own
// origin, with relative URLs only, so it works behind Pushpin unchanged.
//
// Routes (the caller registers them for GET and HEAD):
//
//	/                      the page (index.html); ?board=<id> picks a board
//	/static/<file>         the page's files; /static/leaderboard.js is the
//	                       client other sites can load
//	/favicon.ico           the icon (an SVG)
//
// Every answer has its Content-Type, an ETag (a 304 for If-None-Match), and
// Cache-Control: no-cache, so browsers revalidate and a new deployment is
// picked up at once, at the price of a 304 per file.
package page

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// contentTypes are the types of the files this package embeds; a file of
// another kind is a build mistake that New reports.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// csp is the page's Content-Security-Policy: its own scripts, styles,
// images and connections only (the API is on the same origin). No inline
// script or style, so an injected board or player name cannot run.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// file is one embedded file, ready to serve.
type file struct {
	body        []byte
	contentType string
	etag        string
	page        bool // the HTML page itself, which gets the CSP
}

// Handler serves the page and its files.
type Handler struct {
	files map[string]file // by URL path
}

// New reads the embedded files. It panics if they are not what the package
// needs (a build mistake, which the package's tests catch), like
// template.Must, so a router can be built in one expression.
func New() *Handler {
	h, err := load()
	if err != nil {
		panic(err)
	}
	return h
}

func load() (*Handler, error) {
	h := &Handler{files: make(map[string]file)}
	err := fs.WalkDir(files, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("page: no content type for %s", name)
		}
		sum := sha256.Sum256(body)
		f := file{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		h.files["/"+name] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	index, ok := h.files["/static/index.html"]
	if !ok {
		return nil, fmt.Errorf("page: static/index.html is missing")
	}
	delete(h.files, "/static/index.html")
	index.page = true
	h.files["/"] = index
	icon, ok := h.files["/static/favicon.svg"]
	if !ok {
		return nil, fmt.Errorf("page: static/favicon.svg is missing")
	}
	h.files["/favicon.ico"] = icon
	return h, nil
}

// Paths are the URL paths the handler answers, for a router to register.
func (h *Handler) Paths() []string {
	paths := make([]string, 0, len(h.files))
	for p := range h.files {
		paths = append(paths, p)
	}
	return paths
}

// ServeHTTP answers GET and HEAD for the page's paths, 404 for any other
// path and 405 for any other method.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "" || p == "/index.html" {
		p = "/"
	}
	f, ok := h.files[p]
	if !ok || strings.Contains(p, "..") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	if f.page {
		hd.Set("Content-Security-Policy", csp)
		hd.Set("Referrer-Policy", "same-origin")
	}
	// ServeContent answers If-None-Match with 304, Range, and HEAD with the
	// headers only; the zero time leaves Last-Modified out (the ETag is
	// exact, embedded files have no modification time).
	http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(f.body))
}
