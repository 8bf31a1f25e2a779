import { BlockList, isIP } from 'node:net';

/**
 * A comma-separated list of addresses and CIDR ranges ("10.0.0.0/8, ::1"),
 * as operators write them for NOVA_TRUSTED_PROXIES and NOVA_METRICS_ALLOW.
 * Returns the entries (a bare address becomes /32 or /128) and a problem
 * per entry that is neither.
 */
export function parseNetworks(list: string): { networks: string[]; problems: string[] } {
  const networks: string[] = [];
  const problems: string[] = [];
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const bits = prefix === undefined ? max : Number(prefix);
    if (family === 0 || extra !== undefined || !/^\d{0,3}$/.test(prefix ?? '') || bits < 0 || bits > max) {
      problems.push(`"${entry}" is not an IP address or CIDR range`);
      continue;
    }
    networks.push(`${address}/${bits}`);
  }
  return { networks, problems };
}

/** A matcher over parsed networks; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match their IPv4 ranges. */
export function networkMatcher(networks: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const network of networks) {
    const [address = '', bits] = network.split('/');
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    list.addSubnet(address, Number(bits), family);
  }
  return (address) => {
    if (!address) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
