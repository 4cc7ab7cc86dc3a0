/**
 * An S3 endpoint that refuses every request the way AWS does for a wrong secret key: HTTP 403 with
 * an XML `<Error><Code>SignatureDoesNotMatch</Code>…`. A real socket and the real wire format, so
 * the panel's SDK parses it exactly as it would AWS's answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RefusingS3 {
  url: string;
  requests: number;
  close(): Promise<void>;
}

export async function startRefusingS3(code = 'SignatureDoesNotMatch', status = 403): Promise<RefusingS3> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    req.resume();
    req.on('end', () => {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>test</HostId></Error>`;
      res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': '4442587FB7D0A2F9' }).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() { return state.requests; },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
