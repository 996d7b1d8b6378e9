/*
 * Clarion's service worker for the inbox page (served at /inbox/sw.js, scope /inbox/).
 *
 * A push from Clarion carries {title, body, url, data}; it is shown as a system
 * notification. Clicking it focuses an open tab on the same URL or opens one: the
 * message's action URL, or the inbox when it has none.
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
    data: { url: message.url || '', delivery_id: data.delivery_id || '' },
    icon: '/static/inbox/icon.svg'
  }));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var target = new URL(event.notification.data && event.notification.data.url
    ? event.notification.data.url : self.registration.scope, self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === target && 'focus' in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow(target);
    }));
});
