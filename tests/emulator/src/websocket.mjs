// SPDX-License-Identifier: MIT
// MQTT over WebSockets over TLS, as IoT Hub and DPS serve it on 443: an HTTP upgrade at
// /$iothub/websocket with the subprotocol `mqtt`, whose message stream goes to the same aedes broker
// (same authentication, topics and faults) as the MQTT/TLS listener. Where a service has one TLS port
// for both (every service outside standard mode), the first byte after the handshake tells them apart:
// an HTTP request starts with 'G' (GET), MQTT with a CONNECT packet (0x10).
// Also the `blockMqtt` fault: the MQTT/TLS listeners refuse (RST) or black-hole (accept, never answer)
// connections, so a client's fallback to 443 can be tested.
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { serve, unserve } from './listen.mjs';

export const WS_PATH = '/$iothub/websocket';
export const WS_PORT = 443;
const MAX_HEAD = 16 * 1024;
const server = new WebSocket.Server({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
  handleProtocols: (protocols) => (protocols.includes('mqtt') ? 'mqtt' : false),
});

/** Answers a refused upgrade with an HTTP status and closes. */
function refuseUpgrade(socket, status, reason) {
  const body = `${reason}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Takes an upgrade request (a real http.IncomingMessage, or the head parsed by readHead) on the TLS
 * socket and, when it is an MQTT WebSocket upgrade this service accepts, hands the stream to its broker.
 */
export function upgrade(service, req, socket, head) {
  const path = (req.url || '').split('?')[0];
  const protocols = (req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim());
  const entry = { dir: 'in', type: 'WS_UPGRADE', url: req.url, protocol: req.headers['sec-websocket-protocol'] };
  const fault = service.emu.faults.take('wsUpgradeRefused', { service: service.kind });
  let status = 101;
  let reason = 'Switching Protocols';
  if (fault) [status, reason] = [fault.status, 'Refused (fault)'];
  else if (path !== WS_PATH) [status, reason] = [404, 'Not Found'];
  else if (!protocols.includes('mqtt')) [status, reason] = [400, 'Sec-WebSocket-Protocol mqtt required'];
  service.log(undefined, { ...entry, status });
  if (status !== 101) return refuseUpgrade(socket, status, reason);
  server.handleUpgrade(req, socket, head, (ws) => {
    const stream = WebSocket.createWebSocketStream(ws);
    // What the services read off the connection: the TLS peer (X.509 enrollment) and its address.
    stream.getPeerCertificate = (detailed) => socket.getPeerCertificate(detailed);
    stream.remoteAddress = socket.remoteAddress;
    stream.remoteFamily = socket.remoteFamily;
    stream.remotePort = socket.remotePort;
    stream.websocket = true; // for the wire log
    stream.on('error', () => {});
    service.handleStream(stream);
  });
}

/** Reads an HTTP request head off a socket: cb(req-like, rest) once complete; closes on garbage. */
function readHead(socket, first, cb) {
  let buf = first;
  const tryParse = () => {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_HEAD) socket.destroy();
      return false;
    }
    const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
    const [method, url, version = ''] = lines[0].split(' ');
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i <= 0) continue;
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    cb({ method, url, headers, httpVersion: version.replace('HTTP/', ''), socket }, buf.subarray(end + 4));
    return true;
  };
  if (tryParse()) return;
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (tryParse()) socket.off('data', onData);
  };
  socket.on('data', onData);
}

/** blockMqtt for a new MQTT connection: true when the fault took it (reset, or held unanswered). */
function blocked(service, socket) {
  const f = service.emu.faults.take('blockMqtt', { service: service.kind });
  if (!f) return false;
  service.log(undefined, { dir: 'in', type: 'BLOCKED', mode: f.mode });
  if (f.mode === 'refuse') {
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  } else {
    socket.pause(); // black hole: the peer's bytes are never read or answered
  }
  return true;
}

/**
 * The servers for a broker service's TLS port. mqttOnly: the port carries MQTT alone (standard mode's
 * 8883), so blockMqtt acts on the TCP connection, before TLS; otherwise (a shared port) the first byte
 * after TLS decides, and blockMqtt acts on MQTT connections only.
 */
export function brokerServer(service, { mqttOnly, wsOnly = false }) {
  const { cert, key } = service.emu.certs;
  const secure = tls.createServer({ cert, key, requestCert: true, rejectUnauthorized: false, noDelay: true }, (socket) => {
    if (wsOnly) {
      socket.once('data', (first) => readHead(socket, first, (req, rest) => upgrade(service, req, socket, rest)));
      return;
    }
    if (mqttOnly) return service.handleStream(socket);
    socket.once('data', (first) => {
      if (first[0] === 0x47 /* 'G' */) return readHead(socket, first, (req, rest) => upgrade(service, req, socket, rest));
      // Any other request line (POST, PUT...) is plain HTTPS: a hub's file-upload endpoints.
      if (service.routeHttp && first[0] >= 0x41 && first[0] <= 0x5a) return service.routeHttp(socket, first);
      socket.pause(); // aedes reads from here on, the first chunk included
      if (blocked(service, socket)) return;
      socket.unshift(first);
      service.handleStream(socket);
    });
  });
  secure.on('tlsClientError', (err, socket) => service.tlsError(err, socket));
  const outer = net.createServer({ noDelay: true }, (socket) => {
    if (mqttOnly && blocked(service, socket)) return;
    secure.emit('connection', socket);
  });
  return outer;
}

/** Standard mode: the service's WebSocket listener on 443 at its own address (service.wsListener). */
export async function listenWebSocket(service, hosts, port = WS_PORT) {
  const listener = { sockets: service.sockets };
  await serve(listener, () => brokerServer(service, { wsOnly: true }), hosts, port);
  service.wsListener = listener;
}

/** Closes what listenWebSocket opened (no-op when nothing). */
export function closeWebSocket(service) {
  return service.wsListener ? unserve(service.wsListener) : Promise.resolve();
}
