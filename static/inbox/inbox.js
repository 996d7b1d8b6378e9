/*
 * ClarionInbox — the embeddable client for a Clarion in-app inbox.
 *
 * One plain script, no dependencies, no build step. It defines a single global,
 * `window.ClarionInbox`, that keeps a live connection to a subscriber's inbox and
 * wraps the inbox REST API.
 *
 * Dropping it into another app
 * ----------------------------
 * 1. Your backend mints an inbox token for the signed-in user (API key with the
 *    right scope; the token is for one subscriber and expires):
 *
 *      POST https://clarion.example.com/api/subscribers/<external_id>/inbox-token
 *      Authorization: Bearer <api key>          →  {"token": "...", ...}
 *
 * 2. Your page loads the script from Clarion and connects with that token
 *    (add your page's origin to Clarion's INBOX_ALLOWED_ORIGINS):
 *
 *      <script src="https://clarion.example.com/static/inbox/inbox.js"></script>
 *      <script>
 *        const inbox = new ClarionInbox({
 *          baseUrl: "https://clarion.example.com",
 *          token: tokenFromYourBackend,
 *          onEvent(message) {
 *            if (message.type === "notification.created") showToast(message.notification.title);
 *            if ("unread_count" in message) setBadge(message.unread_count);
 *          },
 *          onStatus(status, detail) { console.log("inbox", status, detail); },
 *        });
 *        inbox.list().then(page => render(page.results));   // fills the cursor, then…
 *        inbox.connect();                                    // …live from there on
 *      </script>
 *
 *    On Clarion's own pages (a session user linked to a subscriber) leave out
 *    `baseUrl` and `token`: the session cookie is used, and writes carry the
 *    `X-CSRFToken` header read from the `csrftoken` cookie (or `csrfToken`).
 *
 * Options
 * -------
 *   baseUrl              Clarion's address; "" (default) means this page's origin.
 *   token                an inbox token; sent as `Authorization: Bearer` on REST calls
 *                        and as `?token=` on the WebSocket / event stream.
 *   csrfToken            CSRF token for session writes (default: the `csrftoken` cookie).
 *   onEvent(message)     every live message, at most once per notification id:
 *                          {type: "hello", unread_count}
 *                          {type: "notification.created", notification, unread_count, catch_up?}
 *                          {type: "notification.read", ids, unread_count}
 *                          {type: "notification.deleted", ids, unread_count}
 *                          {type: "notifications.all_read", unread_count}
 *   onStatus(status, detail)
 *                        "connecting" | "connected" ({transport: "websocket"|"sse"}) |
 *                        "reconnecting" ({delay, attempt}) | "unauthenticated" | "closed"
 *   lastId               the newest notification id already shown, if known.
 *   transport            "auto" (default: WebSocket, falling back to Server-Sent
 *                        Events) | "websocket" | "sse".
 *   maxWebSocketFailures consecutive failed WebSocket attempts before falling back (3).
 *   minDelay, maxDelay   reconnect backoff bounds in ms (1000, 30000); full jitter.
 *
 * Methods
 * -------
 *   connect(), close()
 *   list({unread, category, page, pageSize})  → {count, next, previous, results}
 *   markRead(ids), remove(ids)                → {changed, unread_count}
 *   markAllRead()                             → {changed, unread_count}
 *   unreadCount()                             → number
 *   sendTest()                                → {event_id}
 *   getPreferences()                          → {channels, categories, quiet_hours}
 *   savePreferences(body)                     → the saved preferences
 * REST methods return Promises; a non-2xx answer rejects with a ClarionInbox.ApiError
 * carrying `status` and the server's JSON `body` (which names the offending fields).
 *
 * Behaviour
 * ---------
 * Reconnects with exponential backoff and jitter (reset after each successful
 * hello) and resumes with `last_id=<newest id seen>`, so the server replays what
 * arrived while disconnected; duplicates are dropped by notification id. After
 * `maxWebSocketFailures` WebSocket attempts in a row that never said hello (or
 * when the browser has no WebSocket), it switches to the EventSource stream. A
 * WebSocket closed with code 4401, or a stream refused with 401/403, means the
 * session or token is not valid: it reports "unauthenticated" and stops.
 */
(function (global) {
  'use strict';

  var WS_UNAUTHENTICATED = 4401;
  var HEARTBEAT_MS = 25000;
  var STREAM_EVENTS = ['hello', 'notification.created', 'notification.read',
    'notification.deleted', 'notifications.all_read'];

  function ApiError(status, body) {
    var detail = body && typeof body === 'object' && body.detail ? body.detail : null;
    this.name = 'ClarionInboxApiError';
    this.message = detail || ('Request failed with status ' + status);
    this.status = status;
    this.body = body;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  function readCookie(name) {
    if (typeof document === 'undefined' || !document.cookie) return null;
    var parts = document.cookie.split(';');
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].trim();
      if (pair.slice(0, name.length + 1) === name + '=') {
        return decodeURIComponent(pair.slice(name.length + 1));
      }
    }
    return null;
  }

  function noop() {}

  function ClarionInbox(options) {
    var opts = options || {};
    this.baseUrl = (opts.baseUrl || '').replace(/\/+$/, '');
    this.token = opts.token || null;
    this.csrfToken = opts.csrfToken || null;
    this.onEvent = opts.onEvent || noop;
    this.onStatus = opts.onStatus || noop;
    this.transportMode = opts.transport || 'auto';
    this.maxWebSocketFailures = opts.maxWebSocketFailures || 3;
    this.minDelay = opts.minDelay || 1000;
    this.maxDelay = opts.maxDelay || 30000;
    this.lastId = typeof opts.lastId === 'number' ? opts.lastId : null;
    this.status = 'idle';
    this.transport = null;     // "websocket" | "sse" once connected
    this._seen = new Set();    // notification ids already handed to onEvent
    this._socket = null;
    this._stream = null;
    this._timer = null;
    this._heartbeat = null;
    this._lastFrameAt = 0;
    this._attempt = 0;         // reconnects since the last successful hello
    this._wsFailures = 0;      // WebSocket attempts in a row that never said hello
    this._useSse = false;
    this._stopped = true;
    this._onOnline = this._retryNow.bind(this);
  }

  ClarionInbox.ApiError = ApiError;

  /* ---- Live connection ---------------------------------------------------- */

  ClarionInbox.prototype.connect = function () {
    if (!this._stopped) return this;
    this._stopped = false;
    this._attempt = 0;
    this._wsFailures = 0;
    this._useSse = this.transportMode === 'sse' || typeof global.WebSocket !== 'function';
    if (typeof global.addEventListener === 'function') global.addEventListener('online', this._onOnline);
    this._open();
    return this;
  };

  ClarionInbox.prototype.close = function () {
    this._stopped = true;
    this._teardown();
    if (typeof global.removeEventListener === 'function') {
      global.removeEventListener('online', this._onOnline);
    }
    this._setStatus('closed');
  };

  ClarionInbox.prototype._open = function () {
    this._teardown();
    this._setStatus('connecting');
    if (this._useSse && this.transportMode !== 'websocket') {
      this._openStream();
    } else {
      this._openSocket();
    }
  };

  ClarionInbox.prototype._teardown = function () {
    clearTimeout(this._timer);
    this._timer = null;
    this._stopHeartbeat();
    if (this._socket) {
      var socket = this._socket;
      this._socket = null;
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try { socket.close(1000); } catch (ignored) { /* already closed */ }
    }
    if (this._stream) {
      this._stream.close();
      this._stream = null;
    }
  };

  ClarionInbox.prototype._liveUrl = function (path, scheme) {
    var url = new URL(this.baseUrl + path, global.location ? global.location.href : undefined);
    if (scheme === 'ws') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.token) url.searchParams.set('token', this.token);
    if (this.lastId !== null) url.searchParams.set('last_id', String(this.lastId));
    return url.toString();
  };

  ClarionInbox.prototype._openSocket = function () {
    var self = this;
    var greeted = false;
    var socket;
    try {
      socket = new global.WebSocket(this._liveUrl('/ws/inbox/', 'ws'));
    } catch (error) {
      this._socketFailed();
      return;
    }
    this._socket = socket;
    socket.onmessage = function (frame) {
      var message;
      try { message = JSON.parse(frame.data); } catch (ignored) { return; }
      self._lastFrameAt = Date.now();
      if (message.type === 'hello') {
        greeted = true;
        self._attempt = 0;
        self._wsFailures = 0;
        self.transport = 'websocket';
        self._startHeartbeat();
        self._setStatus('connected', { transport: 'websocket' });
      }
      self._dispatch(message);
    };
    socket.onclose = function (event) {
      if (self._socket !== socket) return;
      self._socket = null;
      self._stopHeartbeat();
      if (event.code === WS_UNAUTHENTICATED) {
        self._unauthenticated();
      } else if (greeted) {
        self._scheduleReconnect();
      } else {
        self._socketFailed();
      }
    };
  };

  ClarionInbox.prototype._socketFailed = function () {
    this._wsFailures += 1;
    if (this.transportMode === 'auto' && this._wsFailures >= this.maxWebSocketFailures) {
      // The network (a proxy, a firewall) may be what refuses WebSockets; the
      // event stream is plain HTTP, so it gets through where they do not.
      this._useSse = true;
      this._attempt = 0;
    }
    this._scheduleReconnect();
  };

  ClarionInbox.prototype._startHeartbeat = function () {
    var self = this;
    this._stopHeartbeat();
    this._lastFrameAt = Date.now();
    // A ping answered by a pong keeps idle proxies from cutting the socket; a
    // socket that stays silent across two pings is dead and is replaced.
    this._heartbeat = setInterval(function () {
      var socket = self._socket;
      if (!socket || socket.readyState !== 1) return;
      if (Date.now() - self._lastFrameAt > 2 * HEARTBEAT_MS) {
        socket.close(4000, 'heartbeat timeout');
        return;
      }
      socket.send(JSON.stringify({ type: 'ping' }));
    }, HEARTBEAT_MS);
  };

  ClarionInbox.prototype._stopHeartbeat = function () {
    clearInterval(this._heartbeat);
    this._heartbeat = null;
  };

  ClarionInbox.prototype._openStream = function () {
    var self = this;
    if (typeof global.EventSource !== 'function') {
      this._setStatus('closed', { reason: 'no WebSocket and no EventSource in this browser' });
      this._stopped = true;
      return;
    }
    var stream = new global.EventSource(this._liveUrl('/api/notifications/stream', 'http'));
    this._stream = stream;
    STREAM_EVENTS.forEach(function (type) {
      stream.addEventListener(type, function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (ignored) { return; }
        if (message.type === 'hello') {
          self._attempt = 0;
          self.transport = 'sse';
          self._setStatus('connected', { transport: 'sse' });
        }
        self._dispatch(message);
      });
    });
    stream.onerror = function () {
      if (self._stream !== stream) return;
      if (stream.readyState === 0) {
        // The browser reconnects by itself, sending Last-Event-ID.
        self._setStatus('reconnecting', { delay: null, attempt: self._attempt });
        return;
      }
      // Closed for good: EventSource gives up on any non-200 answer. Ask the
      // REST API whether that was an authentication refusal before retrying.
      self._stream = null;
      stream.close();
      self.unreadCount().then(function () {
        self._scheduleReconnect();
      }, function (error) {
        if (error && (error.status === 401 || error.status === 403)) {
          self._unauthenticated();
        } else {
          self._scheduleReconnect();
        }
      });
    };
  };

  ClarionInbox.prototype._scheduleReconnect = function () {
    if (this._stopped) return;
    var ceiling = Math.min(this.maxDelay, this.minDelay * Math.pow(2, this._attempt));
    // Full jitter: spread the clients a server restart dropped over the window.
    var delay = Math.round(this.minDelay / 2 + Math.random() * (ceiling - this.minDelay / 2));
    this._attempt += 1;
    this.transport = null;
    this._setStatus('reconnecting', { delay: delay, attempt: this._attempt });
    clearTimeout(this._timer);
    this._timer = setTimeout(this._open.bind(this), delay);
  };

  ClarionInbox.prototype._retryNow = function () {
    if (!this._stopped && this._timer) this._open();
  };

  ClarionInbox.prototype._unauthenticated = function () {
    this._stopped = true;
    this._teardown();
    this.transport = null;
    this._setStatus('unauthenticated');
  };

  ClarionInbox.prototype._setStatus = function (status, detail) {
    this.status = status;
    this.onStatus(status, detail || {});
  };

  ClarionInbox.prototype._dispatch = function (message) {
    if (!message || typeof message.type !== 'string') return;
    if (message.type === 'notification.created' && message.notification) {
      var id = message.notification.id;
      if (this._seen.has(id)) return;
      this._remember([id]);
    }
    this.onEvent(message);
  };

  ClarionInbox.prototype._remember = function (ids) {
    for (var i = 0; i < ids.length; i++) {
      this._seen.add(ids[i]);
      if (this.lastId === null || ids[i] > this.lastId) this.lastId = ids[i];
    }
  };

  /* ---- REST --------------------------------------------------------------- */

  ClarionInbox.prototype._request = function (method, path, body) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.token) {
      headers.Authorization = 'Bearer ' + this.token;
    } else if (method !== 'GET') {
      var csrf = this.csrfToken || readCookie('csrftoken');
      if (csrf) headers['X-CSRFToken'] = csrf;
    }
    return fetch(this.baseUrl + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // The session cookie only ever goes to this page's own origin; a token
      // needs no cookie at all.
      credentials: this.token ? 'omit' : 'same-origin',
    }).then(function (response) {
      var type = response.headers.get('Content-Type') || '';
      var parsed = type.indexOf('json') !== -1 ? response.json() : response.text();
      return parsed.then(function (data) {
        if (!response.ok) throw new ApiError(response.status, data);
        return data;
      });
    });
  };

  ClarionInbox.prototype.list = function (params) {
    var self = this;
    var p = params || {};
    var query = new URLSearchParams();
    var filtered = (p.unread !== undefined && p.unread !== null) || Boolean(p.category);
    if (p.unread !== undefined && p.unread !== null) query.set('unread', p.unread ? 'true' : 'false');
    if (p.category) query.set('category', p.category);
    if (p.page) query.set('page', String(p.page));
    if (p.pageSize) query.set('page_size', String(p.pageSize));
    var qs = query.toString();
    var newest = !filtered && (!p.page || p.page === 1);
    return this._request('GET', '/api/notifications' + (qs ? '?' + qs : '')).then(function (page) {
      // What a list showed needs no live repeat, and is where catch-up starts.
      // An empty unfiltered inbox still sets the cursor (0): whatever arrives
      // before the connection is up is then replayed rather than lost.
      if (newest && self.lastId === null) self.lastId = 0;
      self._remember(page.results.map(function (n) { return n.id; }));
      return page;
    });
  };

  function idsBody(ids) {
    return { ids: Array.isArray(ids) ? ids : [ids] };
  }

  ClarionInbox.prototype.markRead = function (ids) {
    return this._request('POST', '/api/notifications/mark-as-read', idsBody(ids));
  };

  ClarionInbox.prototype.markAllRead = function () {
    return this._request('POST', '/api/notifications/mark-all-as-read');
  };

  ClarionInbox.prototype.remove = function (ids) {
    return this._request('POST', '/api/notifications/delete', idsBody(ids));
  };

  ClarionInbox.prototype.unreadCount = function () {
    return this._request('GET', '/api/notifications/unread-count').then(function (data) {
      return data.unread_count;
    });
  };

  ClarionInbox.prototype.sendTest = function () {
    return this._request('POST', '/api/notifications/test');
  };

  ClarionInbox.prototype.getPreferences = function () {
    return this._request('GET', '/api/notifications/preferences');
  };

  ClarionInbox.prototype.savePreferences = function (body) {
    return this._request('PUT', '/api/notifications/preferences', body);
  };

  // --- Browser push (Web Push) -------------------------------------------------------

  function keyBytes(base64url) {
    var padded = (base64url + '===='.slice(base64url.length % 4)).replace(/-/g, '+').replace(/_/g, '/');
    var raw = global.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  ClarionInbox.prototype.pushKey = function () {
    return this._request('GET', '/api/notifications/push-key');
  };

  ClarionInbox.prototype.registerDevice = function (body) {
    return this._request('POST', '/api/notifications/devices', body);
  };

  ClarionInbox.prototype.removeDevice = function (body) {
    return this._request('DELETE', '/api/notifications/devices', body);
  };

  /** Whether this browser can take push notifications at all. */
  ClarionInbox.browserPushSupported = function () {
    return typeof global.navigator !== 'undefined' && 'serviceWorker' in global.navigator &&
      'PushManager' in global && 'Notification' in global;
  };

  /** The service worker's registration with its current subscription (or null). */
  ClarionInbox.prototype.browserPushState = function (serviceWorkerUrl, scope) {
    if (!ClarionInbox.browserPushSupported()) return Promise.resolve(null);
    return global.navigator.serviceWorker.getRegistration(scope).then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    });
  };

  /**
   * Ask for permission, register the service worker, subscribe with the server's VAPID key
   * and send the subscription to Clarion. Resolves to the registered device.
   */
  ClarionInbox.prototype.enableBrowserPush = function (serviceWorkerUrl, scope) {
    var self = this;
    if (!ClarionInbox.browserPushSupported()) {
      return Promise.reject(new Error('This browser cannot show push notifications.'));
    }
    return this.pushKey().then(function (key) {
      if (!key.enabled) throw new Error('Browser notifications are not set up on this server.');
      return global.Notification.requestPermission().then(function (permission) {
        if (permission !== 'granted') throw new Error('Notifications are blocked for this site.');
        return global.navigator.serviceWorker.register(serviceWorkerUrl, { scope: scope });
      }).then(function () {
        return global.navigator.serviceWorker.ready;
      }).then(function (registration) {
        return registration.pushManager.getSubscription().then(function (existing) {
          return existing || registration.pushManager.subscribe({
            userVisibleOnly: true, applicationServerKey: keyBytes(key.vapid_public_key)
          });
        });
      });
    }).then(function (subscription) {
      return self.registerDevice({ kind: 'webpush', subscription: subscription.toJSON(),
                                   label: (global.navigator.userAgent || '').slice(0, 200) });
    });
  };

  /** Unsubscribe this browser and remove its device from Clarion. */
  ClarionInbox.prototype.disableBrowserPush = function (serviceWorkerUrl, scope) {
    var self = this;
    return this.browserPushState(serviceWorkerUrl, scope).then(function (subscription) {
      if (!subscription) return null;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return self.removeDevice({ endpoint: endpoint }).catch(function (error) {
          if (error.status !== 404) throw error;  // already gone: nothing to remove
        });
      });
    });
  };

  global.ClarionInbox = ClarionInbox;
}(typeof window !== 'undefined' ? window : this));
