import { describe, expect, it } from 'vitest';
import { makeRequestPem } from '../testing/certificate-requests.js';
import { parseCsrPem } from './certificate-request.js';

describe('parseCsrPem (x509.ParseCertificateRequest)', () => {
  it('reads the subject, the SANs of the extensionRequest and the key algorithm; the signature verifies', async () => {
    for (const key of ['rsa', 'ec'] as const) {
      const pem = await makeRequestPem({
        cn: 'system:node:n1',
        o: ['system:nodes', 'dev'],
        dns: ['n1.example.com'],
        ip: ['127.0.1.1', '2001:db8::1'],
        email: ['a@example.com'],
        uri: ['spiffe://cluster/ns/x'],
        key,
      });
      const req = parseCsrPem(pem);
      expect(req.subject).toEqual({ commonName: 'system:node:n1', organization: ['system:nodes', 'dev'] });
      expect(req.dnsNames).toEqual(['n1.example.com']);
      expect(req.ipAddresses).toEqual(['127.0.1.1', '2001:db8::1']);
      expect(req.emailAddresses).toEqual(['a@example.com']);
      expect(req.uris).toEqual(['spiffe://cluster/ns/x']);
      expect(req.publicKeyAlgorithm).toBe(key === 'rsa' ? 'RSA' : 'ECDSA');
      expect(() => req.checkSignature()).not.toThrow();
    }
  });

  it("a changed byte under the signature fails CheckSignature with Go's words", async () => {
    const pem = await makeRequestPem({ cn: 'jane', key: 'rsa' });
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    // the common name's last byte: inside the signed CertificationRequestInfo
    const at = der.indexOf(Buffer.from('jane')) + 3;
    der[at] = 'x'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const req = parseCsrPem(tampered);
    expect(req.subject.commonName).toBe('janx');
    expect(() => req.checkSignature()).toThrow('crypto/rsa: verification error');
  });

  it('anything but a CERTIFICATE REQUEST block is refused as upstream refuses it', () => {
    expect(() => parseCsrPem('hello')).toThrow('PEM block type must be CERTIFICATE REQUEST');
    expect(() => parseCsrPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow(
      'PEM block type must be CERTIFICATE REQUEST',
    );
    expect(() =>
      parseCsrPem('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'),
    ).toThrow('x509: malformed certificate request');
  });

  it('a request followed by trailing bytes is malformed, as Go’s asn1.Unmarshal finds it', async () => {
    const pem = await makeRequestPem({ cn: 'jane', key: 'ec' });
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const padded = Buffer.concat([der, Buffer.from([0, 0])]).toString('base64');
    expect(() =>
      parseCsrPem(`-----BEGIN CERTIFICATE REQUEST-----\n${padded}\n-----END CERTIFICATE REQUEST-----\n`),
    ).toThrow('x509: malformed certificate request');
  });
});
