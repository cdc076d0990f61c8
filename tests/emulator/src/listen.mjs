// SPDX-License-Identifier: MIT
// Loopback listeners. A name the emulator hands out must reach it whichever address the name resolves
// to first: Debian maps localhost to ::1 as well as 127.0.0.1, and Node 18 dials ::1 first without
// falling back. So a service listens on every address of its name, with one server per address, all
// on the same port.
const ATTEMPTS = 20;

/** The addresses `localhost` may resolve to on a stock machine. */
export const LOCALHOST_ADDRESSES = ['127.0.0.1', '::1'];

// ::1 is optional: a machine (or container) without IPv6 loopback still serves 127.0.0.1.
const NO_ADDRESS = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL']);

function listenOne(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address().port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

/** Closes servers and waits until each has stopped listening. */
export function closeServers(servers) {
  return Promise.all(servers.map((s) => new Promise((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
}

/**
 * Listens with a new server from make() on each host, all at one port: the given one, or when it is 0
 * any port free on every host. Resolves to { servers, port, hosts } (hosts: those actually bound).
 * A fixed port that is taken or not permitted rejects with Node's error (code EADDRINUSE, EACCES, ...).
 */
export async function listenAll(make, hosts, port) {
  for (let attempt = 1; ; attempt++) {
    const servers = [];
    const bound = [];
    let p = port;
    try {
      for (const host of hosts) {
        const server = make();
        try {
          p = await listenOne(server, p, host);
        } catch (err) {
          if (host === '::1' && NO_ADDRESS.has(err.code)) continue;
          throw err;
        }
        servers.push(server);
        bound.push(host);
      }
      return { servers, port: p, hosts: bound };
    } catch (err) {
      await closeServers(servers);
      // An ephemeral port free on the first address may be taken on the next: pick another.
      if (port !== 0 || err.code !== 'EADDRINUSE' || attempt >= ATTEMPTS) throw err;
    }
  }
}

/**
 * Serves a service (a hub, DPS, the operator API) with servers from make() on hosts at port, tracking
 * their sockets for a prompt shutdown. Sets service.servers, service.port, service.hosts, service.sockets.
 */
export async function serve(service, make, hosts, port) {
  service.sockets = service.sockets || new Set();
  const tracked = () => {
    const server = make();
    server.on('connection', (s) => {
      s.setNoDelay(true); // small writes would otherwise stall ~40 ms
      service.sockets.add(s);
      s.on('close', () => service.sockets.delete(s));
    });
    return server;
  };
  const r = await listenAll(tracked, hosts, port);
  service.servers = r.servers;
  service.port = r.port;
  service.hosts = r.hosts;
}

/** Stops what serve() started: drops every open connection and closes the servers. */
export function unserve(service) {
  for (const s of service.sockets || []) s.destroy();
  return closeServers(service.servers || []);
}
