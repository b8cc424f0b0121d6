// Container healthcheck: exits 0 when every URL given answers 200 (https with the cluster's self-signed CA accepted).
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

const check = (url) =>
  new Promise((resolve) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    // a health probe, not a client: the serving cert's CA is the cluster's own, so it is not verified here
    const req = get(url, { rejectUnauthorized: false, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });

const urls = process.argv.slice(2);
const results = await Promise.all(urls.map(check));
process.exit(urls.length > 0 && results.every(Boolean) ? 0 : 1);
