// An unmodified Socket.IO client, as a push-server user's page or backend runs it.
// Usage: node socketio_client.js <module> <url> <userId> <connectionId> <transport> <seconds>
// Prints one JSON line per thing that happens: connect, message, error, disconnect.
const [moduleName, url, userId, connectionId, transport, seconds] = process.argv.slice(2);
const io = require(moduleName);
const say = (event, data) => console.log(JSON.stringify({ event, data }));

const socket = io.connect(url, { transports: [transport], reconnection: false, forceNew: true });
socket.on('connect', () => {
  say('connect', socket.io.engine.transport.name);
  // The acknowledgement only tells the test when to push; the server answers with or without it.
  socket.emit('register', userId, connectionId, (answer) => say('registered', answer));
});
socket.on('message', (message) => say('message', message));
socket.on('error', (error) => say('error', error));
socket.on('connect_error', (error) => say('connect_error', String(error && error.message || error)));
socket.on('disconnect', (reason) => say('disconnect', reason));
setTimeout(() => { socket.close(); process.exit(0); }, Number(seconds) * 1000);
