package e2e_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/models"
)

// The live page (GET /) in a real browser, against web as cmd/web wires it.

var updateScreenshot = flag.Bool("update-screenshot", false, "write docs/page.png from the live page")

// row is a row of the page's table as a reader sees it.
type row struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Rank  int    `json:"rank"`
	Score int64  `json:"score"`
}

// rowsJS reads the table's rows, in the order they are shown.
const rowsJS = `[...document.querySelectorAll("#board tbody tr")].map(tr => ({
	id: tr.dataset.playerId,
	name: tr.querySelector(".name").textContent,
	rank: Number(tr.querySelector(".rank").textContent.trim()),
	score: Number(tr.querySelector(".score").textContent.replace(/[^0-9-]/g, "")),
}))`

func (tb *tab) rows() []row {
	tb.t.Helper()
	return eval[[]row](tb, rowsJS)
}

// atRank is a predicate: the row at position rank (1-based) is name, shows
// that rank and score.
func atRank(name string, rank int, score int64) string {
	return fmt.Sprintf(`(() => { const r = %s[%d]; return !!r && r.name === %q && r.rank === %d && r.score === %d; })()`,
		rowsJS, rank-1, name, rank, score)
}

// scoreIs is a predicate: name's row shows score.
func scoreIs(name string, score int64) string {
	return fmt.Sprintf(`%s.some(r => r.name === %q && r.score === %d)`, rowsJS, name, score)
}

// settled is a predicate: the element selector finds is there, and the
// row it is in (if any) is not moving.
func settled(selector string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector(%q); const tr = el && el.closest("tr");
		return !!el && (!tr || tr.getAnimations().length === 0); })()`, selector)
}

func statusIs(status string) string {
	return fmt.Sprintf(`document.getElementById("status").dataset.status === %q`, status)
}

// openDemoPage starts web with o, seeds the demo board and opens the page
// in a fresh browser until it is live and shows the five players.
func openDemoPage(t *testing.T, o testapp.Options) (*testapp.App, string, map[string]string, *tab) {
	t.Helper()
	b := newBrowser(t)
	a := testapp.Start(t, o)
	board, ids := seedDemo(t, a)
	tb := b.open(a.URL + "/")
	tb.await("the demo board", statusIs("live")+" && "+atRank("Stan", 5, 0), wait)
	return a, board, ids, tb
}

// seedDemo creates the demo board as web does in embedded mode (testapp
// starts without it): TS, Brodie, Brandi, Rene and Stan, in that order.
func seedDemo(t *testing.T, a *testapp.App) (string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	demo, err := a.Store.SeedDemo(ctx)
	require.NoError(t, err)
	players, err := a.Store.Players.TopForBoard(ctx, demo.ID, 10)
	require.NoError(t, err)
	ids := make(map[string]string, len(players))
	for _, p := range players {
		ids[p.Name] = p.ID
	}
	require.Len(t, ids, len(models.DemoPlayers))
	return demo.ID, ids
}

func addScore(t *testing.T, a *testapp.App, board, player string, amount int) {
	t.Helper()
	res := a.Do(t, "POST", "/boards/"+board+"/players/"+player+"/score-add/", map[string]int{"amount": amount})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
}

const wait = 15 * time.Second

func TestPageShowsTheDemoBoard(t *testing.T) {
	b := newBrowser(t)
	a := testapp.Start(t, testapp.Options{})
	other, _ := a.Board(t, "Cup", "Ann")
	demo, _ := seedDemo(t, a)

	tb := b.open(a.URL + "/")
	tb.await("the demo board, live", statusIs("live")+" && "+atRank("Stan", 5, 0), wait)
	names := []string{}
	for i, r := range tb.rows() {
		names = append(names, r.Name)
		assert.Equal(t, i+1, r.Rank)
		assert.Zero(t, r.Score)
	}
	assert.Equal(t, models.DemoPlayers, names, "the demo's five players, in the demo's order")
	assert.Equal(t, "Demo", eval[string](tb, `document.querySelector("#board caption").textContent`))
	assert.Equal(t, "Live", eval[string](tb, `document.getElementById("status").textContent.trim()`))
	assert.ElementsMatch(t, []string{demo, other},
		eval[[]string](tb, `[...document.querySelectorAll("#board-select option")].map(o => o.value)`),
		"the picker lists the boards")
	assert.Equal(t, demo, eval[string](tb, `document.getElementById("board-select").value`))

	// Accessible: row headers, buttons that say what they do, a live region.
	assert.Equal(t, "Add 1 point to TS",
		eval[string](tb, `document.querySelector("#board tbody tr button").getAttribute("aria-label")`))
	assert.Equal(t, 5, eval[int](tb, `document.querySelectorAll("#board tbody th[scope=row]").length`))
	assert.Equal(t, "polite", eval[string](tb, `document.getElementById("announce").getAttribute("aria-live")`))
	tb.noConsoleErrors(false)

	// ?board= shows another board; the picker switches without a reload.
	cup := b.open(a.URL + "/?board=" + other)
	cup.await("the Cup board", atRank("Ann", 1, 0)+` && document.querySelector("#board caption").textContent === "Cup"`, wait)
	require.NoError(t, chromedp.Do(cup.ctx, chromedp.SetValue(chromedp.CSS("#board-select"), demo)))
	eval[chromedp.Void](cup, `document.getElementById("board-select").dispatchEvent(new Event("change"))`)
	cup.await("the demo board after picking it", atRank("TS", 1, 0)+" && "+statusIs("live"), wait)
	assert.Equal(t, "?board="+demo, eval[string](cup, `location.search`))
	cup.noConsoleErrors(false)
}

func TestPlusOneMovesAPlayerUpInEveryPage(t *testing.T) {
	b := newBrowser(t)
	a := testapp.Start(t, testapp.Options{})
	board, ids := seedDemo(t, a)
	for name, score := range map[string]int{"TS": 4, "Brodie": 3, "Brandi": 2, "Rene": 1} {
		addScore(t, a, board, ids[name], score)
	}

	mine := b.open(a.URL + "/")
	theirs := b.open(a.URL + "/") // another browser context: another visitor
	for _, tb := range []*tab{mine, theirs} {
		tb.await("the board with Stan last", statusIs("live")+" && "+atRank("TS", 1, 4)+" && "+atRank("Stan", 5, 0), wait)
	}

	button := fmt.Sprintf(`#board tbody tr[data-player-id=%q] button`, ids["Stan"])
	var last time.Time
	for n := int64(1); n <= 5; n++ {
		mine.await("Stan's row to stand still", settled(button), wait) // not part of the time taken
		last = time.Now()
		mine.click(button)
		mine.await(fmt.Sprintf("Stan's score %d after click %d", n, n), scoreIs("Stan", n), wait)
	}
	mine.await("Stan at rank 1 in the page that clicked", atRank("Stan", 1, 5), wait)
	theirs.await("Stan at rank 1 in the other page", atRank("Stan", 1, 5)+" && "+atRank("TS", 2, 4), wait)
	took := time.Since(last)
	assert.Less(t, took, time.Second, "both pages show the new ranks within a second of the fifth click")
	t.Logf("both pages showed Stan at rank 1 %s after the fifth click", took.Round(time.Millisecond))

	// The changed score is highlighted and the move announced.
	stanScore := fmt.Sprintf(`document.querySelector('#board tbody tr[data-player-id=%q] .score-value')`, ids["Stan"])
	theirs.await("the highlight on Stan's score", stanScore+`.classList.contains("flash")`, wait)
	theirs.await("the announcement", `document.getElementById("announce").textContent.includes("Stan moves up to rank 1")`, wait)
	assert.Equal(t, int64(5), scoreOf(t, a, board, ids["Stan"]), "five clicks, five points")

	mine.noConsoleErrors(false)
	theirs.noConsoleErrors(false)
}

func TestScoreAddByHTTPShowsInThePage(t *testing.T) {
	a, board, ids, tb := openDemoPage(t, testapp.Options{})

	// As curl -X POST .../score-add/ -d '{"amount": 7}' would.
	addScore(t, a, board, ids["Rene"], 7)
	tb.await("Rene at rank 1", atRank("Rene", 1, 7)+" && "+atRank("TS", 2, 0), wait)
	addScore(t, a, board, ids["Rene"], -10)
	tb.await("Rene last with a negative score", atRank("Rene", 5, -3), wait)
	tb.noConsoleErrors(false)
}

// The +1 buttons work from the keyboard, and the focus stays on the button
// pressed while its row moves up; a pointer click on a moving row is
// dropped instead of going to whichever player slid under the pointer.
func TestPlusOneFromTheKeyboardAndOnMovingRows(t *testing.T) {
	a, board, ids, tb := openDemoPage(t, testapp.Options{})

	button := fmt.Sprintf(`#board tbody tr[data-player-id=%q] button`, ids["Stan"])
	require.NoError(t, chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS(button)), chromedp.KeyEvent(kb.Enter)))
	tb.await("Stan at rank 1", atRank("Stan", 1, 1), wait)
	require.NoError(t, chromedp.Do(tb.ctx, chromedp.KeyEvent(" ")))
	tb.await("Stan's second point", atRank("Stan", 1, 2), wait)
	assert.True(t, eval[bool](tb, fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, button)),
		"the focus stays on Stan's button")

	// A pointer click on a row that is moving is dropped: it may be meant
	// for the row that was there a moment before.
	sent := eval[bool](tb, fmt.Sprintf(`(() => {
		const b = document.querySelector(%q);
		const move = b.closest("tr").animate([{transform: "translateY(40px)"}, {transform: "none"}], {duration: 60000});
		b.dispatchEvent(new MouseEvent("click", {bubbles: true, detail: 1}));
		const busy = b.hasAttribute("aria-busy"); // set at once when a +1 is sent
		move.cancel();
		return busy;
	})()`, button))
	assert.False(t, sent, "a click on a moving row sends nothing")
	tb.click(button) // standing still, it counts
	tb.await("Stan's third point", atRank("Stan", 1, 3), wait)
	assert.Equal(t, int64(3), scoreOf(t, a, board, ids["Stan"]), "the click on the moving row added nothing")
	tb.noConsoleErrors(false)
}

// A deleted board ends the page's stream for good, and the page says so;
// an unknown ?board= says there is no such board.
func TestPageSaysWhenTheBoardIsGone(t *testing.T) {
	b := newBrowser(t)
	a := testapp.Start(t, testapp.Options{})
	board, _ := seedDemo(t, a)
	tb := b.open(a.URL + "/")
	tb.await("the demo board", statusIs("live")+" && "+atRank("Stan", 5, 0), wait)

	require.Equal(t, http.StatusNoContent, a.Do(t, "DELETE", "/boards/"+board+"/", nil).Status)
	tb.await("the page to stop", statusIs("closed")+` && document.getElementById("message").textContent === "This board was deleted."`, wait)
	assert.Empty(t, tb.rows())
	assert.True(t, eval[bool](tb, `document.getElementById("empty").hidden`), "not an empty board: no board")

	unknown := b.open(a.URL + "/?board=no-such-board")
	unknown.await("the page to say so", statusIs("closed")+
		` && document.getElementById("message").textContent.startsWith("There is no board with id")`, wait)
	// A stream of a board that is gone is a failed request for the
	// browser; nothing else may be reported.
	tb.noConsoleErrors(true)
	unknown.noConsoleErrors(true)
}

// The page shows ten rows while the stream carries the server's top N: the
// rows below the top N are read again when the stream changes.
func TestPageShowsTenWhenTheStreamCarriesFewer(t *testing.T) {
	b := newBrowser(t)
	a := testapp.Start(t, testapp.Options{TopN: 3})
	names := []string{"P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12"}
	board, ids := a.Board(t, "Demo", names...)
	for i := range names {
		addScore(t, a, board, ids[i], 100-i)
	}
	tb := b.open(a.URL + "/")
	tb.await("ten rows", statusIs("live")+" && "+atRank("P1", 1, 100)+" && "+atRank("P10", 10, 91), wait)
	assert.Len(t, tb.rows(), 10)

	addScore(t, a, board, ids[11], 50) // P12: 89 + 50, to the top
	tb.await("P12 at rank 1, P9 pushed to rank 10", atRank("P12", 1, 139)+" && "+atRank("P1", 2, 100)+" && "+atRank("P9", 10, 92), wait)
	assert.Len(t, tb.rows(), 10)
	tb.noConsoleErrors(false)
}

func TestPageAsksForAKeyWhenWritesNeedOne(t *testing.T) {
	const key = "s3cret-key"
	a, board, ids, tb := openDemoPage(t, testapp.Options{APIKeys: []string{key}})

	button := fmt.Sprintf(`#board tbody tr[data-player-id=%q] button`, ids["Brandi"])
	tb.click(button)
	tb.await("the key form", `!document.getElementById("key-form").hidden`, wait)
	assert.Zero(t, scoreOf(t, a, board, ids["Brandi"]))

	require.NoError(t, chromedp.Do(tb.ctx, chromedp.SendKeys(chromedp.CSS("#key-input"), key)))
	tb.click(`#key-form button[type=submit]`)
	// The pending +1 goes through with the key.
	tb.await("Brandi's point", atRank("Brandi", 1, 1)+` && document.getElementById("key-form").hidden`, wait)
	assert.Equal(t, key, eval[string](tb, `sessionStorage.getItem("leaderboard.apiKey")`), "kept for this tab")
	assert.NotContains(t, eval[string](tb, `location.href`), key, "never in the URL")

	tb.click(button)
	tb.await("Brandi's second point", atRank("Brandi", 1, 2), wait)
	assert.Equal(t, int64(2), scoreOf(t, a, board, ids["Brandi"]))
	// The 401 is logged by the browser as a failed request; nothing else.
	tb.noConsoleErrors(true)
}

// After web restarts on the same address, the page says it is reconnecting
// and then live again, without a reload, and keeps following the board.
func TestPageReconnectsAfterRestart(t *testing.T) {
	b := newBrowser(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	a := testapp.Start(t, testapp.Options{HTTPListener: l})
	board, ids := seedDemo(t, a)
	addScore(t, a, board, ids["Brodie"], 2)
	published(t, a, board, 5)

	tb := b.open(a.URL + "/")
	tb.await("the demo board", statusIs("live")+" && "+atRank("Brodie", 1, 2), wait)
	eval[chromedp.Void](tb, `window.notReloaded = true`)
	// The database dies with the process: carry the board over as a
	// database would keep it (same ids, same seq).
	data := dumpBoard(t, a, board)

	require.NoError(t, a.Close())
	tb.await("reconnecting", statusIs("reconnecting"), wait)
	assert.Equal(t, "Reconnecting…", eval[string](tb, `document.getElementById("status").textContent.trim()`))

	l2, err := net.Listen("tcp", addr)
	require.NoError(t, err, "the same address again")
	a2 := testapp.Start(t, testapp.Options{HTTPListener: l2})
	restoreBoard(t, a2, data)
	tb.await("live again", statusIs("live"), 30*time.Second)
	assert.True(t, eval[bool](tb, `window.notReloaded === true`), "no reload")

	addScore(t, a2, board, ids["Stan"], 3)
	tb.await("a change on the new process", atRank("Stan", 1, 3), wait)
	// Refused connections while web was down are network errors; nothing
	// else may be reported.
	tb.noConsoleErrors(true)
}

// Behind Pushpin the page works unchanged: the page, its files, the +1 and
// the stream all go through the proxy, which holds the stream.
func TestPageThroughPushpin(t *testing.T) {
	b := newBrowser(t)
	a, pp := startGrip(t)
	board, ids := seedDemo(t, a)
	published(t, a, board, 5)

	tb := b.open(pp.ClientURL + "/")
	tb.await("the demo board through Pushpin", statusIs("live")+" && "+atRank("Stan", 5, 0), wait)
	assert.Empty(t, a.Hub.Topics(), "Pushpin holds the stream, not web")

	button := fmt.Sprintf(`#board tbody tr[data-player-id=%q] button`, ids["Rene"])
	tb.click(button)
	tb.await("Rene's point", atRank("Rene", 1, 1), wait)
	addScore(t, a, board, ids["Stan"], 2)
	tb.await("Stan's points, published through Pushpin", atRank("Stan", 1, 2)+" && "+atRank("Rene", 2, 1), wait)
	tb.noConsoleErrors(false)
}

// boardDump is a board's documents as stored.
type boardDump struct {
	Board   map[string]any
	Players []map[string]any
}

func dumpBoard(t *testing.T, a *testapp.App, board string) boardDump {
	t.Helper()
	s := a.Session(t)
	db := r.DB(a.Config.EmbeddedDatabase)
	var d boardDump
	require.NoError(t, db.Table("boards").Get(board).ReadOne(&d.Board, s))
	require.NoError(t, db.Table("players").Filter(map[string]any{"board": board}).ReadAll(&d.Players, s))
	return d
}

func restoreBoard(t *testing.T, a *testapp.App, d boardDump) {
	t.Helper()
	s := a.Session(t)
	db := r.DB(a.Config.EmbeddedDatabase)
	_, err := db.Table("boards").Insert(d.Board).RunWrite(s)
	require.NoError(t, err)
	_, err = db.Table("players").Insert(d.Players).RunWrite(s)
	require.NoError(t, err)
}

func scoreOf(t *testing.T, a *testapp.App, board, player string) int64 {
	t.Helper()
	res := a.Do(t, "GET", "/boards/"+board+"/players/"+player+"/", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var p struct{ Score int64 }
	require.NoError(t, json.Unmarshal(res.Body, &p))
	return p.Score
}

// TestScreenshot writes docs/page.png (and page-dark.png, page-phone.png)
// with -update-screenshot: the demo board in the middle of a game.
func TestScreenshot(t *testing.T) {
	if !*updateScreenshot {
		t.Skip("writes docs/page.png only with -update-screenshot")
	}
	b := newBrowser(t)
	a := testapp.Start(t, testapp.Options{})
	_, _ = a.Board(t, "Friday Finals", "Ann")
	board, ids := seedDemo(t, a)
	for name, score := range map[string]int{"TS": 12, "Brodie": 27, "Brandi": 31, "Rene": 9, "Stan": 18} {
		addScore(t, a, board, ids[name], score)
	}
	stan := int64(18)
	for _, shot := range []struct {
		scheme, file  string
		width, height int64
		mobile        bool
	}{
		{"light", "page.png", 720, 600, false},
		{"dark", "page-dark.png", 720, 600, false},
		{"light", "page-phone.png", 390, 640, true},
	} {
		tb := b.open("about:blank")
		require.NoError(t, chromedp.Do(tb.ctx,
			chromedp.EmulateViewport(shot.width, shot.height, func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
				p.Mobile = shot.mobile
			}),
			chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
				_, err := cdp.Call(ctx, target, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: shot.scheme}},
				})
				return err
			}),
			chromedp.Navigate(a.URL+"/"),
		))
		tb.await("the board", statusIs("live")+" && "+atRank("Brandi", 1, 31), wait)
		// A point for Stan, just before the picture: his row moves up and
		// his score lights up.
		tb.click(fmt.Sprintf(`#board tbody tr[data-player-id=%q] button`, ids["Stan"]))
		stan++
		tb.await("Stan's point", atRank("Stan", 3, stan), wait)
		tb.await("rows to stop moving", `document.getAnimations().every(a => !(a.effect.target instanceof HTMLTableRowElement))`, wait)
		png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		path := filepath.Join("..", "docs", shot.file)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, png, 0o644))
		t.Logf("wrote %s (%d bytes)", path, len(png))
		tb.noConsoleErrors(false)
	}
}

// Another site's page that follows a board of web with leaderboard.js, as
// the README shows it (window.board is for the test).
const otherSitePage = `<!DOCTYPE html>
<meta charset="utf-8">
<title>Another site</title>
<link rel="icon" href="data:,">
<ol id="board"></ol>
<p id="status"></p>
<script src="%[1]s/static/leaderboard.js"></script>
<script>
  window.board = new Leaderboard("%[1]s", "%[2]s", {
    onUpdate: (b) => document.getElementById("board").replaceChildren(
      ...b.players.map((p) => Object.assign(document.createElement("li"), {textContent: p.name + " " + p.score}))),
    onStatus: (s) => document.getElementById("status").textContent = s,
  });
</script>
`

// otherSite serves otherSitePage from another origin (another port) than
// web's, on l.
func otherSite(t *testing.T, l net.Listener, webURL, board string) string {
	t.Helper()
	page := fmt.Sprintf(otherSitePage, webURL, board)
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return l
}

// A page of another site reads a board and follows its stream.
func TestAnotherSiteFollowsABoard(t *testing.T) {
	b := newBrowser(t)
	a := testapp.Start(t, testapp.Options{})
	board, ids := seedDemo(t, a)
	site := otherSite(t, listen(t), a.URL, board)

	tb := b.open(site + "/")
	tb.await("the board on the other site", `document.getElementById("status").textContent === "live" && `+
		`document.getElementById("board").textContent.includes("Stan 0")`, wait)
	addScore(t, a, board, ids["Stan"], 4)
	tb.await("Stan's points on the other site", `document.querySelector("#board li").textContent === "Stan 4"`, wait)
	tb.noConsoleErrors(false)
}

// A page of another site cannot add to a score unless web is configured to
// accept writes from its origin.
func TestAnotherSiteCannotWriteUnlessAllowed(t *testing.T) {
	// addJS is the other site's +1 for TS, as its page would send it.
	const addJS = `board.addScore(%q, 1).then(() => "written", (e) => "refused " + e.status)`

	t.Run("not allowed", func(t *testing.T) {
		b := newBrowser(t)
		a := testapp.Start(t, testapp.Options{})
		board, ids := seedDemo(t, a)
		site := otherSite(t, listen(t), a.URL, board)
		tb := b.open(site + "/")
		tb.await("leaderboard.js loaded from web", `typeof Leaderboard === "function" && !!window.board`, wait)

		// A JSON POST from another origin needs the service's consent
		// (preflight); without it the browser does not send it.
		got := eval[string](tb, fmt.Sprintf(addJS, ids["TS"]))
		assert.True(t, strings.HasPrefix(got, "refused"), "the write from another site: %s", got)
		assert.Zero(t, scoreOf(t, a, board, ids["TS"]), "nothing written")
	})

	t.Run("no preflight", func(t *testing.T) {
		b := newBrowser(t)
		a := testapp.Start(t, testapp.Options{})
		board, ids := seedDemo(t, a)
		site := otherSite(t, listen(t), a.URL, board)
		tb := b.open(site + "/")
		tb.await("the other site's page", `!!window.board`, wait)

		// A "simple" cross-site POST (as a form sends it) needs no
		// preflight: the browser sends it and only hides the answer, so
		// the server itself must refuse it.
		url := a.URL + "/boards/" + board + "/players/" + ids["TS"] + "/score-add/"
		eval[string](tb, fmt.Sprintf(`fetch(%q, {method: "POST", mode: "no-cors"}).then(() => "sent", () => "failed")`, url))
		assert.Zero(t, scoreOf(t, a, board, ids["TS"]), "a cross-site form post writes nothing")
	})

	t.Run("allowed", func(t *testing.T) {
		siteL := listen(t)
		origin := "http://" + siteL.Addr().String()
		b := newBrowser(t)
		a := testapp.Start(t, testapp.Options{Config: func(c *config.Config) { c.CORSOrigins = []string{origin} }})
		board, ids := seedDemo(t, a)
		site := otherSite(t, siteL, a.URL, board)
		require.Equal(t, origin, site)
		tb := b.open(site + "/")
		tb.await("leaderboard.js loaded from web", `!!window.board`, wait)

		assert.Equal(t, "written", eval[string](tb, fmt.Sprintf(addJS, ids["TS"])))
		assert.Equal(t, int64(1), scoreOf(t, a, board, ids["TS"]))
		tb.noConsoleErrors(false)
	})
}
