package app

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// seedDemo creates the demo board in an empty database only: with
// DATA_DIR, a restart finds the boards it kept and adds none.
func (a *App) seedDemo(ctx context.Context) error {
	boards, err := a.Store.Boards.List(ctx, "", 1)
	if err != nil {
		return fmt.Errorf("seed demo board: %w", err)
	}
	if len(boards) > 0 {
		return nil
	}
	if a.Demo, err = a.Store.SeedDemo(ctx); err != nil {
		return fmt.Errorf("seed demo board: %w", err)
	}
	return nil
}

// backupPath serves a consistent snapshot of the embedded database while
// web runs (see withBackup).
const backupPath = "/admin/backup"

// withBackup serves GET /admin/backup beside the API: the embedded
// database's consistent snapshot, in the format of DATA_DIR's
// snapshot.mrdb, for a key from API_KEYS (without API_KEYS it is refused:
// the snapshot holds every table). Restore: stop web, put the file alone
// in an empty DATA_DIR as snapshot.mrdb, start web.
func (a *App) withBackup(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimSuffix(r.URL.Path, "/") != backupPath {
			api.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			jsonError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		if len(a.Config.APIKeys) == 0 {
			jsonError(w, http.StatusForbidden, "backups need API_KEYS: set it, and send Authorization: Bearer <key>")
			return
		}
		if !a.validKey(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", "Bearer")
			jsonError(w, http.StatusUnauthorized, "missing or wrong API key")
			return
		}
		name := "leaderboard-" + time.Now().UTC().Format("20060102T150405Z") + ".mrdb"
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodHead {
			return
		}
		start := time.Now()
		if err := a.DB.Backup(w); err != nil {
			// The status is sent: the client sees a file without its
			// trailer, which a start refuses as incomplete.
			a.log.Error("backup failed", "err", err)
			return
		}
		a.log.Info("backup served", "took", time.Since(start), "remote", r.RemoteAddr)
	})
}

func (a *App) validKey(header string) bool {
	key, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	valid := 0
	for _, k := range a.Config.APIKeys {
		valid |= subtle.ConstantTimeCompare([]byte(key), []byte(k))
	}
	return valid == 1
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"error\": %q}\n", msg)
}
