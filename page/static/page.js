// The live leaderboard page: a board picker, the board's top 10 with a "+1"
// per player, following the board's stream through leaderboard.js.
//
// The stream carries the server's top N (TOP_N, 5 by default), the page
// shows 10: a stream update is drawn at once for its players, and when the
// page shows more rows than the stream carries, the rest is read again with
// GET ?limit=10 (coalesced), and every 30 seconds, since changes below the top
// N make no event.
(function () {
  "use strict";

  var LIMIT = 10;
  var TAIL_REFRESH_MS = 30000;
  var KEY_STORAGE = "leaderboard.apiKey";
  var STATUS_TEXT = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline, retrying",
    closed: "Stopped",
  };

  // The API is where the page is (relative URLs, so the page works behind a
  // proxy such as Pushpin, on any host).
  var base = new URL(".", location.href).href.replace(/\/+$/, "");

  var $ = function (id) {
    return document.getElementById(id);
  };
  var els = {
    status: $("status"),
    statusText: $("status-text"),
    picker: $("picker"),
    select: $("board-select"),
    caption: $("board-name"),
    table: $("board"),
    tbody: document.querySelector("#board tbody"),
    empty: $("empty"),
    message: $("message"),
    keyForm: $("key-form"),
    keyReason: $("key-reason"),
    keyInput: $("key-input"),
    keyForget: $("key-forget"),
    announce: $("announce"),
  };

  var numbers = new Intl.NumberFormat();
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  var state = {
    boardID: null,
    client: null,
    players: [], // what the table shows, ranked
    rows: new Map(), // player id -> <tr>
    fullCount: 0, // rows of the last complete read (GET ?limit=10)
    streamGen: 0, // stream updates seen for this board
    refreshing: false,
    refreshAgain: false,
    refreshTimer: null,
    tailTimer: null,
    lastStream: null, // the last board the stream carried
    defaultID: null, // the board shown without ?board=
    pendingAdd: null, // a +1 waiting for an API key
    closeReason: "",
  };

  // --- API key: sessionStorage only, sent as a bearer token. ---

  function storage() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null; // storage disabled: the key lives in memory only
    }
  }
  var memoryKey = "";
  function getKey() {
    var s = storage();
    return (s && s.getItem(KEY_STORAGE)) || memoryKey;
  }
  function setKey(key) {
    memoryKey = key;
    var s = storage();
    if (!s) return;
    if (key) s.setItem(KEY_STORAGE, key);
    else s.removeItem(KEY_STORAGE);
  }

  // --- Messages and status. ---

  function showMessage(text) {
    els.message.textContent = text || "";
    els.message.hidden = !text;
  }

  function setStatus(status) {
    els.status.dataset.status = status;
    var text = STATUS_TEXT[status] || status;
    if (status === "closed" && state.closeReason === "board deleted") text = "Board deleted";
    els.statusText.textContent = text;
  }

  function announce(text) {
    // Clear first so the same sentence twice is read twice.
    els.announce.textContent = "";
    if (text) {
      setTimeout(function () {
        els.announce.textContent = text;
      }, 50);
    }
  }

  // --- The table. ---

  function makeRow(player) {
    var tr = document.createElement("tr");
    tr.dataset.playerId = player.id;
    var rank = document.createElement("td");
    rank.className = "rank";
    var badge = document.createElement("span");
    badge.className = "rank-badge";
    rank.appendChild(badge);
    var name = document.createElement("th");
    name.scope = "row";
    name.className = "name";
    var score = document.createElement("td");
    score.className = "score";
    var value = document.createElement("span");
    value.className = "score-value";
    score.appendChild(value);
    var action = document.createElement("td");
    action.className = "action";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "add";
    button.textContent = "+1";
    button.addEventListener("click", function (e) {
      // A pointer click on a row that is moving may be meant for the row
      // that was there a moment ago: drop it rather than give the point to
      // the wrong player. Keyboard clicks (detail 0) know their target.
      if (e.detail > 0 && moving(tr)) return;
      addPoint(tr.dataset.playerId, button);
    });
    action.appendChild(button);
    tr.append(rank, name, score, action);
    return tr;
  }

  function fillRow(tr, player) {
    tr.dataset.rank = String(player.rank);
    tr.querySelector(".rank-badge").textContent = String(player.rank);
    tr.querySelector(".name").textContent = player.name;
    tr.querySelector(".name").title = player.name;
    var score = tr.querySelector(".score-value");
    var text = numbers.format(player.score);
    if (score.textContent !== text) score.textContent = text;
    tr.querySelector("button").setAttribute("aria-label", "Add 1 point to " + player.name);
  }

  function moving(tr) {
    return tr.getAnimations().some(function (a) {
      return a.playState === "running" && a.effect && a.effect.getKeyframes().some(function (k) {
        return k.transform && k.transform !== "none";
      });
    });
  }

  function flash(el) {
    el.classList.remove("flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("flash");
  }

  // render draws players (ranked, at most LIMIT), moving rows that changed
  // place with a FLIP animation and flashing changed scores.
  function render(players) {
    players = players.slice(0, LIMIT);
    var before = new Map();
    var prev = new Map();
    state.players.forEach(function (p) {
      prev.set(p.id, p);
    });
    state.rows.forEach(function (tr, id) {
      before.set(id, tr.getBoundingClientRect().top);
      tr.getAnimations().forEach(function (a) {
        a.cancel();
      });
    });
    var focused = document.activeElement;

    var keep = new Set();
    players.forEach(function (p, i) {
      var tr = state.rows.get(p.id);
      if (!tr) {
        tr = makeRow(p);
        state.rows.set(p.id, tr);
      }
      keep.add(p.id);
      fillRow(tr, p);
      if (els.tbody.children[i] !== tr) els.tbody.insertBefore(tr, els.tbody.children[i] || null);
    });
    state.rows.forEach(function (tr, id) {
      if (!keep.has(id)) {
        tr.remove();
        state.rows.delete(id);
      }
    });
    // Moving a row blurs the button inside it: give keyboard users their
    // focus back.
    if (focused && focused !== document.activeElement && focused.isConnected) {
      focused.focus({ preventScroll: true });
    }

    var moves = [];
    players.forEach(function (p) {
      var tr = state.rows.get(p.id);
      var old = prev.get(p.id);
      if (old && old.score !== p.score) flash(tr.querySelector(".score-value"));
      if (old && p.rank < old.rank) {
        moves.push(p.name + " moves up to rank " + p.rank + " with " + numbers.format(p.score) + " points.");
      }
      if (reducedMotion.matches) return;
      var top = before.get(p.id);
      if (top === undefined) {
        if (prev.size > 0) tr.animate([{ opacity: 0 }, { opacity: 1 }], { duration: 300 });
        return;
      }
      var dy = top - tr.getBoundingClientRect().top;
      if (Math.abs(dy) > 0.5) {
        tr.animate([{ transform: "translateY(" + dy + "px)" }, { transform: "none" }], {
          duration: 350,
          easing: "cubic-bezier(0.2, 0.8, 0.2, 1)",
        });
      }
    });
    if (moves.length) announce(moves.slice(0, 3).join(" "));

    state.players = players;
    els.empty.hidden = players.length > 0;
  }

  // merge puts the players of top (authoritative, newer) first and the
  // others of rest after them, in their order, ranked after top.
  function merge(top, rest) {
    var seen = new Set();
    var out = top.map(function (p) {
      seen.add(p.id);
      return p;
    });
    rest.forEach(function (p) {
      if (seen.has(p.id) || out.length >= LIMIT) return;
      out.push({ id: p.id, name: p.name, score: p.score, rank: out.length + 1 });
    });
    return out;
  }

  // --- Reading the board. ---

  // refresh reads the top 10 again: at most one read in flight, and one
  // more after it if something changed meanwhile.
  function refresh() {
    if (state.refreshing) {
      state.refreshAgain = true;
      return;
    }
    var id = state.boardID;
    var client = state.client;
    if (!client) return;
    var gen = state.streamGen;
    state.refreshing = true;
    client
      .fetchBoard(LIMIT)
      .then(
        function (board) {
          if (state.boardID !== id) return;
          // A read that was on its way when the board was deleted.
          if (state.closeReason === "board deleted") return;
          // The read may answer before the stream's first event.
          if (!state.lastStream) els.caption.textContent = board.name;
          state.fullCount = board.players.length;
          // A stream update that came while the read was on its way is
          // newer for the players it carries.
          var players = board.players;
          if (state.streamGen !== gen && state.lastStream) players = merge(state.lastStream.players, players);
          render(players);
          scheduleTailRefresh();
        },
        function (err) {
          if (state.boardID !== id) return;
          if (err.status === 404) boardMissing(id);
          // Other failures: the stream's status line says the rest.
        }
      )
      .then(function () {
        state.refreshing = false;
        if (state.refreshAgain) {
          state.refreshAgain = false;
          refreshSoon();
        }
      });
  }

  function refreshSoon() {
    if (state.refreshTimer !== null) return;
    state.refreshTimer = setTimeout(function () {
      state.refreshTimer = null;
      refresh();
    }, 100);
  }

  // Changes below the stream's top N make no event: read them now and then.
  function scheduleTailRefresh() {
    clearTimeout(state.tailTimer);
    state.tailTimer = null;
    if (state.lastStream && state.fullCount > state.lastStream.players.length) {
      state.tailTimer = setTimeout(refresh, TAIL_REFRESH_MS);
    }
  }

  function onUpdate(board) {
    if (!board || !Array.isArray(board.players)) return;
    state.streamGen++;
    state.lastStream = board;
    els.caption.textContent = board.name;
    if (state.fullCount > board.players.length) {
      // The stream carries fewer rows than the page shows: draw its players
      // now, read the rest.
      render(merge(board.players, state.players));
      refreshSoon();
    } else {
      render(board.players);
    }
  }

  function boardMissing(id) {
    var seen = state.streamGen > 0 || state.players.length > 0;
    if (state.client) state.client.close();
    render([]);
    els.empty.hidden = true;
    els.caption.textContent = "No such board";
    showMessage(seen ? "This board was deleted." : "There is no board with id “" + id + "”.");
  }

  // --- Writing. ---

  function addPoint(playerID, button) {
    var client = state.client;
    if (!client) return;
    button.setAttribute("aria-busy", "true");
    client
      .addScore(playerID, 1)
      .then(
        function (player) {
          if (state.client !== client || !player) return;
          // Our own change, at once: the player at its new rank.
          var others = state.players.filter(function (p) {
            return p.id !== player.id;
          });
          if (player.rank <= LIMIT) {
            others.splice(player.rank - 1, 0, { id: player.id, name: player.name, score: player.score, rank: player.rank });
          }
          render(
            others.map(function (p, i) {
              return { id: p.id, name: p.name, score: p.score, rank: i + 1 };
            })
          );
          showMessage("");
          els.keyForm.hidden = true;
          if (state.fullCount > (state.lastStream ? state.lastStream.players.length : 0)) refreshSoon();
        },
        function (err) {
          if (state.client !== client) return;
          if (err.status === 401) {
            askForKey(playerID, getKey() ? "That API key was refused: " + err.message : "Adding points needs an API key.");
            return;
          }
          showMessage("Could not add the point: " + err.message);
        }
      )
      .then(function () {
        button.removeAttribute("aria-busy");
      });
  }

  function askForKey(playerID, reason) {
    state.pendingAdd = playerID;
    els.keyReason.textContent = reason;
    els.keyForm.hidden = false;
    els.keyInput.focus();
  }

  els.keyForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var key = els.keyInput.value.trim();
    if (!key) return;
    setKey(key);
    els.keyInput.value = "";
    els.keyForm.hidden = true;
    var pending = state.pendingAdd;
    state.pendingAdd = null;
    var tr = pending && state.rows.get(pending);
    if (tr) addPoint(pending, tr.querySelector("button"));
  });

  els.keyForget.addEventListener("click", function () {
    setKey("");
    els.keyInput.value = "";
    els.keyForm.hidden = true;
    state.pendingAdd = null;
  });

  // --- Boards. ---

  function boardFromURL() {
    return new URLSearchParams(location.search).get("board");
  }

  // pickDefault: the oldest board named Demo (web seeds one in embedded
  // mode), else the first.
  function pickDefault(boards) {
    var demo = null;
    boards.forEach(function (b) {
      if (b.name === "Demo" && (!demo || b.created_at < demo.created_at)) demo = b;
    });
    return demo || boards[0] || null;
  }

  function fillPicker(boards, current) {
    els.select.textContent = "";
    var list = boards.slice();
    if (
      current &&
      !list.some(function (b) {
        return b.id === current;
      })
    ) {
      list.unshift({ id: current, name: current });
    }
    list.forEach(function (b) {
      var opt = document.createElement("option");
      opt.value = b.id;
      opt.textContent = b.name;
      els.select.appendChild(opt);
    });
    els.select.value = current || "";
    els.picker.hidden = list.length < 2;
    // The picker names the board then; the caption stays for screen readers.
    els.caption.classList.toggle("visually-hidden", !els.picker.hidden);
  }

  function show(id) {
    if (state.client) state.client.close();
    clearTimeout(state.tailTimer);
    clearTimeout(state.refreshTimer);
    state.refreshTimer = null;
    state.boardID = id;
    state.players = [];
    state.rows.clear();
    els.tbody.textContent = "";
    state.fullCount = 0;
    state.streamGen = 0;
    state.lastStream = null;
    state.closeReason = "";
    showMessage("");
    els.caption.textContent = "Loading…";
    els.select.value = id;
    var client = new Leaderboard(base, id, {
      onUpdate: onUpdate,
      onStatus: function (status) {
        setStatus(status);
        // The stream failed: if the board is gone (EventSource does not say
        // why it failed), stop; otherwise this also catches up the rows
        // below the stream's top N.
        if (status === "reconnecting" && state.client === client) refresh();
      },
      onClose: function (reason) {
        state.closeReason = reason;
        if (reason === "board deleted") {
          render([]);
          els.empty.hidden = true;
          showMessage("This board was deleted.");
        }
      },
      apiKey: getKey,
    });
    state.client = client;
    setStatus(client.status);
    refresh();
  }

  var listDelay = 1000;
  function start() {
    fetch(base + "/boards/?limit=100", { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (res) {
        if (!res.ok) {
          var err = new Error("the board list answered " + res.status);
          err.status = res.status;
          throw err;
        }
        return res.json();
      })
      .then(function (list) {
        listDelay = 1000;
        var boards = list.boards || [];
        var id = boardFromURL();
        var pick = pickDefault(boards);
        state.defaultID = pick && pick.id;
        if (!id) id = state.defaultID;
        fillPicker(boards, id);
        if (!id) {
          setStatus("closed");
          els.caption.textContent = "No boards yet";
          showMessage("There are no boards yet. Create one with POST /boards/.");
          return;
        }
        show(id);
      })
      .catch(function () {
        setStatus("offline");
        showMessage("The server cannot be reached; trying again.");
        setTimeout(start, listDelay);
        listDelay = Math.min(listDelay * 2, 30000);
      });
  }

  els.select.addEventListener("change", function () {
    var id = els.select.value;
    if (!id || id === state.boardID) return;
    history.pushState({ board: id }, "", "?board=" + encodeURIComponent(id));
    show(id);
  });

  window.addEventListener("popstate", function () {
    var id = boardFromURL() || state.defaultID;
    if (id && id !== state.boardID) show(id);
  });

  start();
})();
