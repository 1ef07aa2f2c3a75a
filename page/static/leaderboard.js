/*!
 * leaderboard.js: follow a live leaderboard from any page.
 *
 * A plain script (no build step, no dependencies) that defines the global
 * `Leaderboard`, so another site can load it from this service:
 *
 *   <script src="https://scores.example.com/static/leaderboard.js"></script>
 *   <script>
 *     const board = new Leaderboard("https://scores.example.com", "BOARD_ID", {
 *       onUpdate: (b) => console.log(b.name, b.players),  // {id, name, players: [{id, name, score, rank}]}
 *       onStatus: (s) => console.log(s),                  // "connecting", "live", "reconnecting", "offline", "closed"
 *     });
 *   </script>
 *
 * It follows the board's stream (Server-Sent Events on
 * GET /boards/{id}/?stream=1). EventSource retries by itself only after some
 * failures, and never after a 502 (which Pushpin answers under bursts) or
 * another non-200; so on every error this client closes the stream and opens
 * a new one itself, after an exponential backoff with equal jitter, resuming
 * with ?lastEventId=<the last id it saw> (a new EventSource cannot set the
 * Last-Event-ID header): the server then sends nothing twice, and the board
 * at once if it changed meanwhile.
 *
 * A page on another origin needs the service to allow it (CORS): reads for
 * anyone the service lets read, writes only from origins it is configured
 * to accept.
 *
 * API
 *   new Leaderboard(baseURL, boardID, options)
 *     baseURL  where the service is: "" or "." for this page's origin (or
 *              behind a proxy that serves both), else "https://host[:port]".
 *     options  onUpdate(board, {id})  every board the stream carries (the
 *                                     server's top N players, ranked).
 *              onStatus(status)       when the status changes (see above;
 *                                     "offline" while the network or server is
 *                                     unreachable for a while, retries go on;
 *                                     "closed" after close() or when the board
 *                                     was deleted).
 *              onClose(reason)        the server ended the stream on purpose
 *                                     ("board deleted", "server shutting down").
 *              apiKey                 a string, or a function returning one, sent
 *                                     as Authorization: Bearer on writes.
 *              backoff                {base, max} in ms (default 1000, 30000).
 *   board.status                      the current status.
 *   board.lastEventId                 the id of the last board received.
 *   board.addScore(playerID, amount = 1)
 *     POSTs a score change; resolves to the player after it
 *     ({id, name, score, rank, board}), rejects with an Error whose .status
 *     is the HTTP status (401: a key is needed) or 0 for a network failure.
 *   board.fetchBoard(limit)           GET the board now (resolves to it).
 *   board.close()                     stops following; no more callbacks.
 */
(function (root) {
  "use strict";

  var STATUS = ["connecting", "live", "reconnecting", "offline", "closed"];

  // After this many failed attempts in a row the status says "offline"
  // (with the default backoff, after about 15 seconds); retries go on.
  var OFFLINE_AFTER = 5;

  function Leaderboard(baseURL, boardID, options) {
    if (!(this instanceof Leaderboard)) {
      return new Leaderboard(baseURL, boardID, options);
    }
    if (!boardID) {
      throw new TypeError("Leaderboard: a board id is needed");
    }
    options = options || {};
    this.baseURL = normalizeBase(baseURL);
    this.boardID = String(boardID);
    this.status = "connecting";
    this.lastEventId = null;
    this._options = options;
    this._backoff = {
      base: (options.backoff && options.backoff.base) || 1000,
      max: (options.backoff && options.backoff.max) || 30000,
    };
    this._attempt = 0;
    this._source = null;
    this._timer = null;
    this._closed = false;
    var self = this;
    this._onOnline = function () {
      // The network is back: try now instead of at the end of a long wait.
      if (!self._closed && self._timer !== null) {
        clearTimeout(self._timer);
        self._timer = null;
        self._open();
      }
    };
    this._onOffline = function () {
      if (!self._closed) self._setStatus("offline");
    };
    if (typeof root.addEventListener === "function") {
      root.addEventListener("online", this._onOnline);
      root.addEventListener("offline", this._onOffline);
    }
    this._open();
  }

  // normalizeBase turns "", "." or "/" into "" (relative URLs: this page's
  // origin, or whatever proxy serves it) and drops a trailing slash.
  function normalizeBase(baseURL) {
    var base = baseURL == null ? "" : String(baseURL);
    if (base === "." || base === "./") base = "";
    return base.replace(/\/+$/, "");
  }

  Leaderboard.prototype.boardURL = function () {
    return this.baseURL + "/boards/" + encodeURIComponent(this.boardID) + "/";
  };

  Leaderboard.prototype._setStatus = function (status) {
    if (this.status === status) return;
    this.status = status;
    call(this._options.onStatus, status);
  };

  Leaderboard.prototype._open = function () {
    this._timer = null;
    if (this._closed) return;
    var url = this.boardURL() + "?stream=1";
    if (this.lastEventId !== null) {
      url += "&lastEventId=" + encodeURIComponent(this.lastEventId);
    }
    var self = this;
    var source = new EventSource(url);
    this._source = source;
    source.addEventListener("open", function () {
      if (self._source !== source) return;
      self._attempt = 0;
      self._setStatus("live");
    });
    source.addEventListener("update", function (e) {
      if (self._source !== source) return;
      var board;
      try {
        board = JSON.parse(e.data);
      } catch (err) {
        return; // not a board: ignore it, the next event replaces it anyway
      }
      if (e.lastEventId) self.lastEventId = e.lastEventId;
      self._attempt = 0;
      self._setStatus("live");
      call(self._options.onUpdate, board, { id: e.lastEventId });
    });
    source.addEventListener("close", function (e) {
      if (self._source !== source) return;
      var reason = "";
      try {
        reason = JSON.parse(e.data).reason || "";
      } catch (err) {
        // no reason given
      }
      call(self._options.onClose, reason);
      if (reason === "board deleted") {
        self.close();
        return;
      }
      // The server is going away (a restart, a deployment): come back soon.
      self._retry();
    });
    source.addEventListener("error", function () {
      if (self._source !== source) return;
      // Whether the browser would retry (a dropped connection) or not (a
      // 502, a 404, a wrong Content-Type), take over: close and reopen.
      self._retry();
    });
  };

  // _retry closes the stream and opens a new one after a jittered backoff.
  Leaderboard.prototype._retry = function () {
    if (this._source) {
      this._source.close();
      this._source = null;
    }
    if (this._closed || this._timer !== null) return;
    var offline = typeof navigator !== "undefined" && navigator.onLine === false;
    this._setStatus(offline || this._attempt >= OFFLINE_AFTER ? "offline" : "reconnecting");
    // Equal jitter: half the exponential delay, plus up to as much again at
    // random, so that clients cut off together do not come back together.
    var ceiling = Math.min(this._backoff.max, this._backoff.base * Math.pow(2, this._attempt));
    var delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this._attempt++;
    var self = this;
    this._timer = setTimeout(function () {
      self._open();
    }, delay);
  };

  Leaderboard.prototype._apiKey = function () {
    var key = this._options.apiKey;
    if (typeof key === "function") key = key();
    return key ? String(key) : "";
  };

  // request sends a JSON request to the API and resolves to the decoded
  // answer; it rejects with an Error carrying .status (0: no answer).
  Leaderboard.prototype._request = function (method, path, body) {
    var headers = { Accept: "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var key = this._apiKey();
    if (key && method !== "GET") headers.Authorization = "Bearer " + key;
    return fetch(this.baseURL + path, init).then(
      function (res) {
        return res.text().then(function (text) {
          var data = null;
          try {
            data = text ? JSON.parse(text) : null;
          } catch (err) {
            data = null;
          }
          if (!res.ok) {
            var msg = (data && data.error) || res.statusText || "request failed";
            var error = new Error(msg);
            error.status = res.status;
            throw error;
          }
          return data;
        });
      },
      function (cause) {
        var error = new Error("the server cannot be reached");
        error.status = 0;
        error.cause = cause;
        throw error;
      }
    );
  };

  Leaderboard.prototype.addScore = function (playerID, amount) {
    if (amount === undefined) amount = 1;
    var path =
      "/boards/" + encodeURIComponent(this.boardID) + "/players/" + encodeURIComponent(playerID) + "/score-add/";
    // A JSON body: cross-origin, the browser asks the service first
    // (preflight), so no other site can add to a score unless allowed.
    return this._request("POST", path, { amount: amount });
  };

  Leaderboard.prototype.fetchBoard = function (limit) {
    var path = "/boards/" + encodeURIComponent(this.boardID) + "/";
    if (limit) path += "?limit=" + encodeURIComponent(limit);
    return this._request("GET", path);
  };

  Leaderboard.prototype.close = function () {
    if (this._closed) return;
    this._closed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (this._source) {
      this._source.close();
      this._source = null;
    }
    if (typeof root.removeEventListener === "function") {
      root.removeEventListener("online", this._onOnline);
      root.removeEventListener("offline", this._onOffline);
    }
    this._setStatus("closed");
  };

  // call runs a callback; one that throws must not break the stream, and the
  // error still reaches the page's error reporting.
  function call(fn) {
    if (typeof fn !== "function") return;
    var args = Array.prototype.slice.call(arguments, 1);
    try {
      fn.apply(null, args);
    } catch (err) {
      setTimeout(function () {
        throw err;
      });
    }
  }

  Leaderboard.STATUS = STATUS;
  root.Leaderboard = Leaderboard;
  if (typeof module === "object" && module.exports) module.exports = Leaderboard;
})(typeof globalThis !== "undefined" ? globalThis : this);
