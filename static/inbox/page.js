/*
 * The /inbox/ page: renders the list, badge, live status and preferences form,
 * and drives them with ClarionInbox (inbox.js) — the same client other apps embed.
 * Every piece of server data is written with textContent, never as HTML.
 */
(function () {
  'use strict';

  var root = document.getElementById('inbox-app');
  if (!root || typeof window.ClarionInbox !== 'function') return;

  var PAGE_SIZE = parseInt(root.getAttribute('data-page-size'), 10) || 20;
  var LEVELS = { info: 'Info', success: 'Success', warning: 'Warning', error: 'Error' };
  var FIELD_LABELS = {
    categories: 'Categories',
    quiet_hours: 'Quiet hours',
    'quiet_hours.start': 'Quiet hours start',
    'quiet_hours.end': 'Quiet hours end',
    'quiet_hours.timezone': 'Time zone',
    'quiet_hours.enabled': 'Quiet hours',
  };

  function byId(id) { return document.getElementById(id); }

  var els = {
    badge: byId('unread-count'),
    status: byId('live-status'),
    list: byId('notification-list'),
    empty: byId('inbox-empty'),
    loading: byId('inbox-loading'),
    loadMore: byId('load-more'),
    flash: byId('inbox-message'),
    sendTest: byId('send-test'),
    markAll: byId('mark-all-read'),
    prefsForm: byId('preferences-form'),
    prefsTable: byId('prefs-table'),
    prefsLoading: byId('prefs-loading'),
    prefsResult: byId('prefs-result'),
    prefsSave: byId('save-preferences'),
    quietEnabled: byId('quiet-enabled'),
    quietStart: byId('quiet-start'),
    quietEnd: byId('quiet-end'),
    quietTimezone: byId('quiet-timezone'),
    timezones: byId('timezone-list'),
  };

  var channelLabels = {};
  try {
    channelLabels = JSON.parse(byId('inbox-channel-labels').textContent);
  } catch (ignored) { /* fall back to the raw channel names */ }

  var state = {
    items: new Map(),   // id → {data, el}
    nextPage: null,
    hellos: 0,
    preferences: null,
  };

  var announcer = document.createElement('p');
  announcer.className = 'visually-hidden';
  announcer.setAttribute('aria-live', 'polite');
  document.body.appendChild(announcer);

  /* ---- Small helpers ------------------------------------------------------- */

  // A long body is shown clamped (CSS) and, beyond BODY_PREVIEW characters, cut: a 250 KB
  // notification should not be a 250 KB page. "Show all" puts the whole text in.
  var BODY_PREVIEW = 600;
  function bodyOf(text) {
    var wrap = el('div', 'notification__body-wrap');
    var body = el('p', 'notification__body', text.length > BODY_PREVIEW
      ? text.slice(0, BODY_PREVIEW) + '…' : text);
    wrap.appendChild(body);
    if (text.length > BODY_PREVIEW || text.split('\n').length > 6) {
      body.classList.add('is-clamped');
      var more = el('button', 'notification__more', 'Show all');
      more.type = 'button';
      more.addEventListener('click', function () {
        var open = body.classList.toggle('is-clamped');
        body.textContent = open && text.length > BODY_PREVIEW ? text.slice(0, BODY_PREVIEW) + '…' : text;
        more.textContent = open ? 'Show all' : 'Show less';
      });
      wrap.appendChild(more);
    }
    return wrap;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function announce(text) {
    announcer.textContent = '';
    // A fresh text node after a tick makes screen readers repeat equal messages.
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  var flashTimer = null;
  function flash(text, kind) {
    clearTimeout(flashTimer);
    els.flash.textContent = text;
    els.flash.className = 'flash flash--' + (kind || 'info');
    els.flash.hidden = false;
    flashTimer = setTimeout(function () { els.flash.hidden = true; }, kind === 'error' ? 10000 : 5000);
  }

  function describeError(error) {
    var body = error && error.body;
    if (!body || typeof body !== 'object') {
      return (error && error.message) || 'Something went wrong. Please try again.';
    }
    var lines = [];
    Object.keys(body).forEach(function (key) {
      var value = body[key];
      var text = Array.isArray(value) ? value.join(' ') : String(value);
      if (key === 'detail') lines.push(text);
      else if (key !== 'ids') lines.push((FIELD_LABELS[key] || key) + ': ' + text);
    });
    return lines.join('\n') || error.message;
  }

  function safeLink(url) {
    if (!url) return null;
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
    } catch (ignored) {
      return null;
    }
  }

  var relative = typeof Intl !== 'undefined' && Intl.RelativeTimeFormat
    ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;
  var absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  function timeAgo(date) {
    var seconds = Math.round((date.getTime() - Date.now()) / 1000);
    if (!relative) return absolute.format(date);
    var steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day']];
    var value = seconds;
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(value) < steps[i][0]) {
        return Math.abs(value) < 10 && steps[i][1] === 'second' ? 'just now' : relative.format(value, steps[i][1]);
      }
      value = Math.round(value / steps[i][0]);
    }
    return absolute.format(date);
  }

  function refreshTimes() {
    state.items.forEach(function (item) {
      var time = item.el.querySelector('time');
      time.textContent = timeAgo(new Date(time.getAttribute('datetime')));
    });
  }

  /* ---- Badge and live status ------------------------------------------------ */

  function setUnread(count) {
    if (typeof count !== 'number') return;
    els.badge.textContent = String(count);
    els.badge.setAttribute('data-count', String(count));
    els.badge.classList.toggle('badge--zero', count === 0);
    document.title = (count > 0 ? '(' + count + ') ' : '') + 'Inbox · Clarion';
  }

  function setStatus(status, detail) {
    var text = els.status.querySelector('.live-status__text');
    els.status.setAttribute('data-state', status);
    els.status.removeAttribute('data-transport');
    text.textContent = '';
    if (status === 'connected') {
      els.status.setAttribute('data-transport', detail.transport);
      text.textContent = detail.transport === 'sse' ? 'Live (event stream)' : 'Live';
    } else if (status === 'reconnecting') {
      text.textContent = detail.delay
        ? 'Reconnecting in ' + Math.max(1, Math.round(detail.delay / 1000)) + ' s…' : 'Reconnecting…';
    } else if (status === 'unauthenticated') {
      text.appendChild(document.createTextNode('Signed out — '));
      var link = el('a', null, 'sign in again');
      link.href = root.getAttribute('data-login-url') || '/inbox/login/';
      text.appendChild(link);
    } else if (status === 'closed') {
      text.textContent = 'Offline';
    } else {
      text.textContent = 'Connecting…';
    }
  }

  /* ---- The list --------------------------------------------------------------- */

  function renderItem(n) {
    var level = LEVELS[n.level] ? n.level : 'info';
    var li = el('li', 'notification notification--' + level);
    li.setAttribute('data-id', String(n.id));
    li.setAttribute('data-level', level);

    var icon = el('span', 'notification__level', LEVELS[level]);
    li.appendChild(icon);

    var content = el('div', 'notification__content');
    var meta = el('p', 'notification__meta');
    var unreadMark = el('span', 'notification__unread', 'Unread');
    meta.appendChild(unreadMark);
    if (n.category) meta.appendChild(el('span', 'chip', n.category));
    var time = el('time');
    time.setAttribute('datetime', n.created_at);
    var created = new Date(n.created_at);
    time.title = absolute.format(created);
    time.textContent = timeAgo(created);
    meta.appendChild(time);
    content.appendChild(meta);

    content.appendChild(el('h2', 'notification__title', n.title));
    if (n.body) content.appendChild(bodyOf(n.body));
    var href = safeLink(n.action_url);
    if (href) {
      var action = el('a', 'notification__link', 'Open');
      action.href = href;
      action.setAttribute('aria-label', 'Open: ' + n.title);
      content.appendChild(action);
    }
    li.appendChild(content);

    var actions = el('div', 'notification__actions');
    var read = el('button', 'button button--small', 'Mark read');
    read.type = 'button';
    read.setAttribute('data-action', 'read');
    read.setAttribute('aria-label', 'Mark read: ' + n.title);
    var remove = el('button', 'button button--small button--danger', 'Delete');
    remove.type = 'button';
    remove.setAttribute('data-action', 'delete');
    remove.setAttribute('aria-label', 'Delete: ' + n.title);
    actions.appendChild(read);
    actions.appendChild(remove);
    li.appendChild(actions);

    applyRead(li, n.read_at);
    return li;
  }

  function applyRead(li, readAt) {
    li.classList.toggle('is-unread', !readAt);
    li.querySelector('[data-action="read"]').hidden = Boolean(readAt);
  }

  function upsert(n, isNew) {
    var existing = state.items.get(n.id);
    var li = renderItem(n);
    if (existing) {
      existing.el.replaceWith(li);
    } else {
      // Keep newest first even when catch-up and live messages interleave.
      var before = null;
      var children = els.list.children;
      for (var i = 0; i < children.length; i++) {
        if (Number(children[i].getAttribute('data-id')) < n.id) { before = children[i]; break; }
      }
      els.list.insertBefore(li, before);
      if (isNew) {
        li.classList.add('is-new');
        setTimeout(function () { li.classList.remove('is-new'); }, 2500);
      }
    }
    state.items.set(n.id, { data: n, el: li });
  }

  function markItemsRead(ids) {
    var now = new Date().toISOString();
    ids.forEach(function (id) {
      var item = state.items.get(id);
      if (item && !item.data.read_at) {
        item.data.read_at = now;
        applyRead(item.el, now);
      }
    });
  }

  function removeItems(ids) {
    ids.forEach(function (id) {
      var item = state.items.get(id);
      if (!item) return;
      if (item.el.contains(document.activeElement)) {
        // Keep keyboard focus in the list rather than dropping it on <body>.
        var next = item.el.nextElementSibling || item.el.previousElementSibling;
        var target = next ? next.querySelector('button:not([hidden])') : els.markAll;
        if (target) target.focus();
      }
      item.el.remove();
      state.items.delete(id);
    });
    updateEmpty();
  }

  function updateEmpty() {
    els.empty.hidden = state.items.size > 0;
  }

  function loadPage(page, replace) {
    return client.list({ page: page, pageSize: PAGE_SIZE }).then(function (result) {
      if (replace) {
        els.list.textContent = '';
        state.items.clear();
      }
      result.results.forEach(function (n) { upsert(n, false); });
      state.nextPage = result.next ? page + 1 : null;
      els.loadMore.hidden = state.nextPage === null;
      updateEmpty();
    }).catch(function (error) {
      flash('Could not load notifications. ' + describeError(error), 'error');
    }).then(function () {
      els.loading.hidden = true;
      els.list.setAttribute('aria-busy', 'false');
    });
  }

  /* ---- Live messages ------------------------------------------------------------ */

  function onEvent(message) {
    switch (message.type) {
      case 'hello':
        state.hellos += 1;
        // Catch-up replays new items only; reads and deletes made elsewhere
        // while this tab was disconnected come from reloading the first page.
        if (state.hellos > 1) loadPage(1, true);
        break;
      case 'notification.created':
        upsert(message.notification, !message.catch_up);
        updateEmpty();
        if (!message.catch_up) announce('New notification: ' + message.notification.title);
        break;
      case 'notification.read':
        markItemsRead(message.ids || []);
        break;
      case 'notification.deleted':
        removeItems(message.ids || []);
        break;
      case 'notifications.all_read':
        markItemsRead(Array.from(state.items.keys()));
        break;
      default:
        return;
    }
    setUnread(message.unread_count);
  }

  var client = new window.ClarionInbox({ onEvent: onEvent, onStatus: setStatus });

  /* ---- Actions ----------------------------------------------------------------- */

  function busy(button, promise) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    return promise.then(function (value) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      return value;
    }, function (error) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      throw error;
    });
  }

  els.list.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    if (!button) return;
    var id = Number(button.closest('.notification').getAttribute('data-id'));
    var action = button.getAttribute('data-action');
    var request = action === 'read' ? client.markRead([id]) : client.remove([id]);
    busy(button, request).then(function (result) {
      if (action === 'read') markItemsRead([id]); else removeItems([id]);
      setUnread(result.unread_count);
    }).catch(function (error) {
      flash(describeError(error), 'error');
    });
  });

  els.markAll.addEventListener('click', function () {
    busy(els.markAll, client.markAllRead()).then(function (result) {
      markItemsRead(Array.from(state.items.keys()));
      setUnread(result.unread_count);
      flash(result.changed ? 'Marked ' + result.changed + ' as read.' : 'Nothing unread.', 'success');
    }).catch(function (error) {
      flash(describeError(error), 'error');
    });
  });

  els.sendTest.addEventListener('click', function () {
    busy(els.sendTest, client.sendTest()).then(function () {
      flash('Test notification sent; it appears here in a moment.', 'success');
    }).catch(function (error) {
      flash(describeError(error), 'error');
    });
  });

  els.loadMore.addEventListener('click', function () {
    if (state.nextPage !== null) busy(els.loadMore, loadPage(state.nextPage, false));
  });

  /* ---- Preferences -------------------------------------------------------------- */

  function channelLabel(channel) {
    return channelLabels[channel] || channel;
  }

  function renderPreferences(prefs) {
    state.preferences = prefs;
    var headRow = els.prefsTable.querySelector('thead tr');
    while (headRow.children.length > 1) headRow.lastChild.remove();
    prefs.channels.forEach(function (channel) {
      var th = el('th', null, channelLabel(channel));
      th.scope = 'col';
      headRow.appendChild(th);
    });

    var body = els.prefsTable.querySelector('tbody');
    body.textContent = '';
    prefs.categories.forEach(function (category) {
      var row = el('tr');
      row.setAttribute('data-category', category.key);
      var head = el('th');
      head.scope = 'row';
      var name = el('span', 'prefs-table__name', category.name);
      head.appendChild(name);
      if (category.critical) head.appendChild(el('span', 'chip chip--critical', 'Critical'));
      if (category.description) head.appendChild(el('span', 'prefs-table__description', category.description));
      row.appendChild(head);
      prefs.channels.forEach(function (channel) {
        var cell = el('td');
        var box = document.createElement('input');
        box.type = 'checkbox';
        box.name = 'pref:' + category.key + ':' + channel;
        box.setAttribute('data-category', category.key);
        box.setAttribute('data-channel', channel);
        box.checked = Boolean(category.channels[channel]);
        box.disabled = Boolean(category.locked);
        box.setAttribute('aria-label', channelLabel(channel) + ' for ' + category.name +
          (category.locked ? ' (critical, always on)' : ''));
        if (category.locked) box.title = 'Critical notifications cannot be muted.';
        cell.appendChild(box);
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
    if (!prefs.categories.length) {
      var emptyRow = el('tr');
      var cell = el('td', 'muted', 'No categories yet.');
      cell.colSpan = prefs.channels.length + 1;
      emptyRow.appendChild(cell);
      body.appendChild(emptyRow);
    }
    els.prefsTable.hidden = false;
    els.prefsLoading.hidden = true;

    var quiet = prefs.quiet_hours || {};
    els.quietEnabled.checked = Boolean(quiet.enabled);
    els.quietStart.value = quiet.start || '';
    els.quietEnd.value = quiet.end || '';
    els.quietTimezone.value = quiet.timezone || '';
    syncQuietFields();
  }

  function syncQuietFields() {
    var on = els.quietEnabled.checked;
    [els.quietStart, els.quietEnd, els.quietTimezone].forEach(function (input) {
      input.disabled = !on;
      input.required = on;
    });
  }

  function fillTimezones() {
    // The page lists the server's zones in a <select>; an older page had a free-text field.
    if (!els.timezones) return;
    if (typeof Intl === 'undefined' || typeof Intl.supportedValuesOf !== 'function') return;
    var fragment = document.createDocumentFragment();
    Intl.supportedValuesOf('timeZone').forEach(function (zone) {
      var option = document.createElement('option');
      option.value = zone;
      fragment.appendChild(option);
    });
    els.timezones.appendChild(fragment);
  }

  function preferencesBody() {
    var categories = {};
    els.prefsTable.querySelectorAll('input[type="checkbox"]:not(:disabled)').forEach(function (box) {
      var key = box.getAttribute('data-category');
      categories[key] = categories[key] || {};
      categories[key][box.getAttribute('data-channel')] = box.checked;
    });
    var start = els.quietStart.value;
    var end = els.quietEnd.value;
    var zone = els.quietTimezone.value.trim();
    var quiet = { enabled: els.quietEnabled.checked };
    if (quiet.enabled || (start && end)) {
      quiet.start = start || null;
      quiet.end = end || null;
      quiet.timezone = zone || null;
    }
    return { categories: categories, quiet_hours: quiet };
  }

  function showPrefsResult(text, kind) {
    els.prefsResult.textContent = text;
    els.prefsResult.className = 'form-result form-result--' + kind;
  }

  els.quietEnabled.addEventListener('change', syncQuietFields);

  els.prefsForm.addEventListener('submit', function (event) {
    event.preventDefault();
    if (!state.preferences) return;
    var body = preferencesBody();
    if (body.quiet_hours.enabled && (!body.quiet_hours.start || !body.quiet_hours.end)) {
      showPrefsResult('Set both a start and an end time for quiet hours.', 'error');
      (body.quiet_hours.start ? els.quietEnd : els.quietStart).focus();
      return;
    }
    showPrefsResult('Saving…', 'pending');
    busy(els.prefsSave, client.savePreferences(body)).then(function (saved) {
      renderPreferences(saved);
      showPrefsResult('Preferences saved.', 'success');
    }).catch(function (error) {
      showPrefsResult(describeError(error), 'error');
    });
  });

  function loadPreferences() {
    client.getPreferences().then(renderPreferences).catch(function (error) {
      els.prefsLoading.textContent = 'Could not load preferences. ' + describeError(error);
    });
  }

  /* ---- Browser notifications (Web Push) ------------------------------------------ */

  var pushBox = byId('browser-push');
  var pushToggle = byId('browser-push-toggle');
  var pushStatus = byId('browser-push-status');

  function showPushState(subscribed, text) {
    pushToggle.dataset.subscribed = subscribed ? 'yes' : 'no';
    pushToggle.textContent = subscribed ? 'Turn off browser notifications'
                                        : 'Enable browser notifications';
    if (text) pushStatus.textContent = text;
  }

  function setUpBrowserPush() {
    if (!window.ClarionInbox.browserPushSupported()) return;  // the section stays hidden
    var sw = pushToggle.dataset.sw, scope = pushToggle.dataset.scope;
    client.pushKey().then(function (key) {
      if (!key.enabled) return;  // not set up on this server: nothing to offer
      pushBox.hidden = false;
      return client.browserPushState(sw, scope).then(function (subscription) {
        showPushState(Boolean(subscription),
                      subscription ? 'This browser shows a notification when a message arrives.'
                                   : null);
      });
    }).catch(function () { /* the rest of the page works without it */ });
    pushToggle.addEventListener('click', function () {
      var turningOn = pushToggle.dataset.subscribed !== 'yes';
      var done = turningOn ? client.enableBrowserPush(sw, scope)
                           : client.disableBrowserPush(sw, scope);
      busy(pushToggle, done).then(function () {
        showPushState(turningOn, turningOn
          ? 'This browser shows a notification when a message arrives.'
          : 'Browser notifications are off for this browser.');
        announce(pushStatus.textContent);
      }).catch(function (error) {
        pushStatus.textContent = 'Could not change browser notifications: ' +
          (error && error.message ? error.message : describeError(error));
      });
    });
  }

  /* ---- Start -------------------------------------------------------------------- */

  fillTimezones();
  loadPreferences();
  setUpBrowserPush();
  client.unreadCount().then(setUnread).catch(function () { /* the hello carries it too */ });
  // The first page sets the cursor, so connecting afterwards replays anything
  // created in between and nothing is missed.
  loadPage(1, true).then(function () { client.connect(); });
  setInterval(refreshTimes, 60000);
}());
