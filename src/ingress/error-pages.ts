// nginx-style HTML bodies for the answers the gateway gives itself (404 default backend, 413, 502/503/504, 308).
import { STATUS_CODES } from 'node:http';

/** the body nginx (and so ingress-nginx) sends with its own error and redirect answers */
export function errorPage(status: number): string {
  const title = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>kubemu-ingress</center>\r\n</body>\r\n</html>\r\n`;
}
