/*
 * Clarion's service worker for the inbox page (served at /inbox/sw.js, scope /inbox/).
 *
 * A push from Clarion carries {title, body, url, data}; it is shown as a system
 * notification. Clicking it marks the message's in-app copy read (with the signed token
 * the push carries) and focuses an open tab on the same URL or opens one: the message's
 * action URL, or the inbox when it has none.
 */
'use strict';

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener('push', function (event) {
  var message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { body: event.data ? event.data.text() : '' };
  }
  var data = message.data || {};
  event.waitUntil(self.registration.showNotification(message.title || 'New notification', {
    body: message.body || '',
    tag: data.delivery_id || undefined,  // a repeated push replaces, never doubles
    data: { url: message.url || '', delivery_id: data.delivery_id || '',
            read_token: data.read_token || '' },
    icon: '/static/inbox/icon.svg'
  }));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var data = event.notification.data || {};
  var target = new URL(data.url || self.registration.scope, self.location.origin).href;
  // Marks the in-app copy read; the signed token in the push is its only credential.
  var read = data.read_token ? fetch('/api/notifications/push-read', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'omit',
    body: JSON.stringify({ token: data.read_token })
  }).catch(function () { /* opening the page matters more */ }) : Promise.resolve();
  event.waitUntil(read.then(function () {
    return self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  }).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i].url === target && 'focus' in windows[i]) return windows[i].focus();
    }
    return self.clients.openWindow(target);
  }));
});
