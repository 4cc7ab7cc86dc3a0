/** An AWS SDK client for the in-process fauxqs server the panel harness starts (no real credentials). */
import { S3Client } from '@aws-sdk/client-s3';

export function fauxqsClient(port: number): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
