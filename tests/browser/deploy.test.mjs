// The deployment, as far as it can be proven without an AWS account:
// - the CloudFormation template keeps its promises (private bucket, OAC, error pages) and its
//   headers policy is exactly headers.json;
// - the upload half of scripts/deploy, against moto's S3 server on 127.0.0.1, stores every
//   file with the right Content-Type, Cache-Control and Content-Encoding and deletes stale
//   ones, and --dry-run changes nothing;
// - the uploaded site, served as CloudFront would serve it (the objects' own metadata plus the
//   template's headers policy, 403 mapped to index.html), passes scripts/check-site and is
//   cross-origin isolated in Chromium with the threaded engine running.
// moto does not implement CloudFront, so a small stand-in here plays the edge. It reads the
// bucket anonymously, under a bucket policy that stands for what OAC is allowed to read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import YAML from 'yaml';
import { CORPUS, ROOT, SITE, convertInPage, launchChromium, openPageAt, startMoto } from './helpers.mjs';

const DEPLOY = path.join(ROOT, 'scripts/deploy');
const CHECK_SITE = path.join(ROOT, 'scripts/check-site');
const HEADERS = JSON.parse(readFileSync(path.join(ROOT, 'headers.json'), 'utf8'));
const template = YAML.parse(readFileSync(path.join(ROOT, 'deploy/cloudformation.yaml'), 'utf8'));
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const CLOUDFRONT_CSP_LIMIT = 1783;

/** The one resource of `type`, as [logicalId, resource]. */
function only(type) {
  const found = Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  assert.equal(found.length, 1, `one ${type} in the template`);
  return found[0];
}
const [bucketId, bucket] = only('AWS::S3::Bucket');
const [oacId, oac] = only('AWS::CloudFront::OriginAccessControl');
const [policyId, headersPolicy] = only('AWS::CloudFront::ResponseHeadersPolicy');
const [distributionId, distribution] = only('AWS::CloudFront::Distribution');
const [, bucketPolicy] = only('AWS::S3::BucketPolicy');
const config = distribution.Properties.DistributionConfig;
const behaviours = [config.DefaultCacheBehavior, ...(config.CacheBehaviors ?? [])];

/** The response headers a CloudFront response headers policy config sends, by name. */
function headersOf(policyConfig) {
  const sent = {};
  for (const item of policyConfig.CustomHeadersConfig?.Items ?? []) sent[item.Header] = item.Value;
  const security = policyConfig.SecurityHeadersConfig ?? {};
  for (const [key, value] of Object.entries(security)) {
    if (key === 'ContentSecurityPolicy') sent['Content-Security-Policy'] = value.ContentSecurityPolicy;
    else if (key === 'ContentTypeOptions') sent['X-Content-Type-Options'] = 'nosniff';
    else if (key === 'FrameOptions') sent['X-Frame-Options'] = value.FrameOption;
    else if (key === 'ReferrerPolicy') sent['Referrer-Policy'] = value.ReferrerPolicy;
    else if (key === 'StrictTransportSecurity') {
      sent['Strict-Transport-Security'] = `max-age=${value.AccessControlMaxAgeSec}`
        + (value.IncludeSubdomains ? '; includeSubDomains' : '') + (value.Preload ? '; preload' : '');
    } else assert.fail(`the test does not know how CloudFront renders ${key}: teach headersOf()`);
  }
  return sent;
}
const sortedEntries = (o) => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));

describe('the CloudFormation template', () => {
  test('the bucket is private and encrypted, with no website hosting', () => {
    const p = bucket.Properties;
    assert.deepEqual(p.PublicAccessBlockConfiguration,
      { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.equal(p.WebsiteConfiguration, undefined);
    assert.equal(p.AccessControl, undefined);
    assert.deepEqual(p.OwnershipControls.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    assert.ok(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm);
  });

  test('the origin reads through Origin Access Control, always signed with SigV4', () => {
    assert.deepEqual(
      { ...oac.Properties.OriginAccessControlConfig, Name: undefined, Description: undefined },
      { Name: undefined, Description: undefined, OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    );
    assert.equal(config.Origins.length, 1);
    for (const origin of config.Origins) {
      assert.deepEqual(origin.OriginAccessControlId, { 'Fn::GetAtt': [oacId, 'Id'] });
      assert.deepEqual(origin.DomainName, { 'Fn::GetAtt': [bucketId, 'RegionalDomainName'] });
      assert.equal(origin.S3OriginConfig.OriginAccessIdentity, '');
    }
  });

  test('the bucket policy lets only this distribution read', () => {
    assert.deepEqual(bucketPolicy.Properties.Bucket, { Ref: bucketId });
    const allows = bucketPolicy.Properties.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow');
    assert.equal(allows.length, 1);
    const [allow] = allows;
    assert.deepEqual(allow.Principal, { Service: 'cloudfront.amazonaws.com' });
    assert.equal(allow.Action, 's3:GetObject');
    assert.deepEqual(allow.Resource, { 'Fn::Sub': `\${${bucketId}.Arn}/*` });
    const sourceArn = allow.Condition.StringEquals['AWS:SourceArn']['Fn::Sub'];
    assert.match(sourceArn, new RegExp(`:cloudfront::\\$\\{AWS::AccountId\\}:distribution/\\$\\{${distributionId}\\}$`));
  });

  test('the distribution serves the app over HTTPS, HTTP/2 and 3, compressed and cached', () => {
    assert.equal(config.Enabled, true);
    assert.equal(config.HttpVersion, 'http2and3');
    assert.equal(config.DefaultRootObject, 'index.html');
    for (const b of behaviours) {
      assert.equal(b.ViewerProtocolPolicy, 'redirect-to-https');
      assert.equal(b.CachePolicyId, CACHING_OPTIMIZED);
      assert.equal(b.Compress, true);
    }
  });

  test('a missing path (403 from the private bucket, or 404) serves index.html with 200', () => {
    const byCode = Object.fromEntries(config.CustomErrorResponses.map((r) => [r.ErrorCode, r]));
    for (const code of [403, 404]) {
      assert.equal(byCode[code]?.ResponsePagePath, '/index.html', `${code} is mapped`);
      assert.equal(byCode[code].ResponseCode, 200);
    }
  });

  test('the headers policy sends exactly headers.json, on every cache behaviour', () => {
    const policy = headersPolicy.Properties.ResponseHeadersPolicyConfig;
    assert.deepEqual(sortedEntries(headersOf(policy)), sortedEntries(HEADERS));
    const overrides = [...policy.CustomHeadersConfig.Items, ...Object.values(policy.SecurityHeadersConfig)].map((h) => h.Override);
    assert.ok(overrides.every((o) => o === true), 'every header overrides what the origin sends');
    for (const b of behaviours) assert.deepEqual(b.ResponseHeadersPolicyId, { Ref: policyId });
  });

  test('the CSP allows only self and wasm, and fits CloudFront\'s limit', () => {
    const csp = HEADERS['Content-Security-Policy'];
    assert.ok(csp.length <= CLOUDFRONT_CSP_LIMIT, `${csp.length} characters`);
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...v]) => [name, v]));
    assert.deepEqual(directives['script-src'], ["'self'", "'wasm-unsafe-eval'"]);
    assert.deepEqual(directives['default-src'], ["'self'"]);
    assert.deepEqual(directives['frame-ancestors'], ["'none'"]);
    assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'|https?:|\*/, 'no inline script, eval or other origin');
  });

  test('a custom domain and certificate are optional, and the outputs name the site, bucket and distribution', () => {
    assert.equal(template.Parameters.DomainName.Default, '');
    assert.equal(template.Parameters.CertificateArn.Default, '');
    assert.deepEqual(Object.keys(template.Outputs).sort(), ['BucketName', 'DistributionId', 'SiteURL']);
  });
});

/** Runs a command without blocking this process, which serves the edge stand-in. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** GET or HEAD without decoding the body, as CloudFront reads its origin. */
function request(url, method = 'GET') {
  return new Promise((resolve, reject) => {
    http.request(url, { method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

/** Plays CloudFront in front of the bucket: the template's headers on every answer, the
 *  object's own Content-Type/Cache-Control/Content-Encoding, / -> index.html, and a
 *  missing key (403 or 404) -> index.html with status 200. */
function edgeStandIn(bucketUrl) {
  const policyHeaders = headersOf(headersPolicy.Properties.ResponseHeadersPolicyConfig);
  const errorPages = Object.fromEntries(config.CustomErrorResponses.map((r) => [r.ErrorCode, r]));
  const server = http.createServer(async (req, res) => {
    const pathname = new URL(req.url, 'http://edge').pathname;
    let object = await request(`${bucketUrl}${pathname === '/' ? `/${config.DefaultRootObject}` : pathname}`);
    let status = object.status;
    const mapped = errorPages[status];
    if (mapped) {
      object = await request(`${bucketUrl}${mapped.ResponsePagePath}`);
      status = mapped.ResponseCode;
    }
    const kept = ['content-type', 'cache-control', 'content-encoding', 'etag', 'last-modified'];
    res.writeHead(status, { ...Object.fromEntries(kept.filter((h) => object.headers[h]).map((h) => [h, object.headers[h]])), ...policyHeaders });
    res.end(object.body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function siteFiles(dir, prefix = '') {
  return readdirSync(dir).sort().flatMap((name) => (statSync(path.join(dir, name)).isDirectory()
    ? siteFiles(path.join(dir, name), `${prefix}${name}/`) : [`${prefix}${name}`]));
}

describe('scripts/deploy and scripts/check-site against a local S3', () => {
  const bucketName = 'imgbatch-site';
  let moto;
  let env;
  let bucketUrl;
  const aws = (...args) => execFileSync('aws', args, { env, encoding: 'utf8' });
  const deploy = (...args) => spawnSync(DEPLOY, ['--bucket', bucketName, '--site', SITE, ...args], { env, encoding: 'utf8' });

  before(async () => {
    moto = await startMoto();
    env = moto.env;
    bucketUrl = `${moto.endpoint}/${bucketName}`;
    aws('s3api', 'create-bucket', '--bucket', bucketName);
    // What OAC may read, for the stand-in edge (moto does not implement OAC).
    aws('s3api', 'put-bucket-policy', '--bucket', bucketName, '--policy', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucketName}/*` }],
    }));
    // A previous build's files, which the deploy must remove.
    for (const key of ['pkg-parallel-000000000000/imgbatch_bg.wasm', 'old-page.html']) {
      aws('s3api', 'put-object', '--bucket', bucketName, '--key', key, '--body', path.join(ROOT, 'headers.json'));
    }
  });

  after(() => moto?.stop());

  const keys = () => JSON.parse(aws('s3api', 'list-objects-v2', '--bucket', bucketName, '--output', 'json')).Contents.map((o) => o.Key).sort();

  test('without the AWS CLI, deploy says what is missing', () => {
    const run = spawnSync(process.execPath, [DEPLOY, '--bucket', bucketName, '--site', SITE], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /AWS CLI \("aws"\) is not on PATH/);
  });

  test('a dry run prints every upload and deletion and changes nothing', () => {
    const before = keys();
    const run = deploy('--dry-run');
    assert.equal(run.status, 0, run.stderr);
    for (const key of siteFiles(SITE)) assert.match(run.stdout, new RegExp(`would upload ${key.replaceAll('.', '\\.')} \\(`));
    assert.match(run.stdout, /would delete old-page\.html/);
    assert.match(run.stdout, /would delete pkg-parallel-000000000000\/imgbatch_bg\.wasm/);
    assert.deepEqual(keys(), before);
  });

  test('the upload stores each file with its type, caching and encoding, and deletes stale files', async () => {
    const run = deploy();
    assert.equal(run.status, 0, run.stderr);
    const local = siteFiles(SITE);
    assert.deepEqual(keys(), local, 'the bucket holds exactly the build');
    const problems = [];
    for (const key of local) {
      const object = await request(`${bucketUrl}/${key}`);
      const hashed = /^pkg-[a-z]+-[0-9a-f]{12}\//.test(key);
      const want = {
        'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate',
        'content-encoding': key.endsWith('.wasm') ? 'br' : undefined,
        'content-type': {
          '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
          '.json': 'application/json', '.wasm': 'application/wasm', '.LICENSE': 'text/plain; charset=utf-8',
          '.webmanifest': 'application/manifest+json', '.png': 'image/png', '.txt': 'text/plain; charset=utf-8',
        }[path.extname(key)],
      };
      for (const [name, value] of Object.entries(want)) {
        if (object.headers[name] !== value) problems.push(`${key}: ${name} is ${object.headers[name]}, want ${value}`);
      }
      let body = key.endsWith('.wasm') ? brotliDecompressSync(object.body) : object.body;
      if (key === 'index.html') {
        // Pinned to the root, so deep links load the app's files (see storedBody in site-rules.js).
        const html = body.toString('utf8');
        if (!html.includes('<head>\n  <base href="/">')) problems.push('index.html: not pinned to / with <base>');
        body = Buffer.from(html.replace('\n  <base href="/">', ''), 'utf8');
      }
      if (!body.equals(readFileSync(path.join(SITE, key)))) problems.push(`${key}: stored bytes differ from the build`);
    }
    assert.deepEqual(problems, []);
    assert.ok(local.some((k) => k.endsWith('.wasm')), 'the build has wasm');
  });

  test('deploying the same build again uploads nothing', () => {
    const run = deploy();
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`: 0 to upload, ${siteFiles(SITE).length} unchanged, 0 to delete`));
  });

  test('check-site passes behind the edge stand-in, and fails on the bare bucket', async () => {
    const edge = await edgeStandIn(bucketUrl);
    try {
      const url = `http://127.0.0.1:${edge.address().port}/`;
      const good = await run(CHECK_SITE, [url]);
      assert.equal(good.status, 0, good.stdout);
      assert.match(good.stdout, /all \d+ checks passed/);
      assert.doesNotMatch(good.stdout, /FAIL/);
      // The bucket itself sends none of the headers and no page for /: check-site must say so.
      const bare = await run(CHECK_SITE, [`${bucketUrl}/`]);
      assert.equal(bare.status, 1);
      assert.match(bare.stdout, /FAIL {2}\/main\.js: Cross-Origin-Embedder-Policy: missing/);
    } finally {
      edge.close();
    }
  });

  test('the deployed site with the template\'s headers is cross-origin isolated and converts on threads', async () => {
    const browser = await launchChromium();
    const edge = await edgeStandIn(bucketUrl);
    try {
      const { page, errors } = await openPageAt(browser, `http://127.0.0.1:${edge.address().port}/photos/deep/link`);
      const state = await page.evaluate(() => ({ isolated: crossOriginIsolated, info: window.imgbatch.engineInfo() }));
      assert.equal(state.isolated, true);
      assert.equal(state.info.mode, 'threaded', state.info.reason);
      const photo = { name: 'Landscape_6.jpg', buffer: readFileSync(path.join(CORPUS, 'exif-orientation-examples/Landscape_6.jpg')) };
      const [result] = await convertInPage(page, [photo], { format: 'webp', sizes: ['256'] });
      assert.equal(result.status, 'converted', JSON.stringify(result.error));
      assert.deepEqual([result.outputs[0].width, result.outputs[0].height], [256, 171]);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      edge.close();
    }
  });
});
