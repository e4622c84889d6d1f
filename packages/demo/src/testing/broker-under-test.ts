import { connect } from "node:net";

/**
 * Whether a broker test can run: true when something listens at `url`. When it does not, the test is
 * skipped with a visible reason — unless FAULTLINE_REQUIRE_BROKERS=1 (CI), where a broker that should
 * be there but is not fails the run instead of passing it silently.
 */
export async function brokerUnderTest(url: string, defaultPort: number, name: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const target = `${hostname}:${port || defaultPort}`;
  if (await reachable(hostname, Number(port || defaultPort))) return true;
  if (process.env.FAULTLINE_REQUIRE_BROKERS === "1") {
    throw new Error(`${name} is required (FAULTLINE_REQUIRE_BROKERS=1) but nothing listens at ${target}`);
  }
  console.warn(
    `skipping the ${name} tests: nothing listens at ${target} (FAULTLINE_REQUIRE_BROKERS=1 fails instead)`,
  );
  return false;
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1_000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}
