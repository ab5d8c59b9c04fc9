// Bulk conversion on AWS (deploy/batch.yaml and scripts/batch-convert), as far as it can be
// proven without an AWS account:
// - each role in the template grants only what its side of the job needs: the function reads
//   the source folder and writes the destination folder; S3 Batch Operations invokes that one
//   function and reads and writes the report folder. The policies are evaluated for concrete
//   parameters, as CloudFormation would, and compared whole;
// - a dry run against moto lists the photos, prints the manifest with every key URL-encoded and
//   the create-job request (LambdaInvoke, schema 2.0, manifest and report in the report folder),
//   and creates nothing.
// moto implements neither S3 Batch Operations jobs nor Lambda's runtime, so the job itself, its
// polling and the report summary are not run here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { CORPUS, ROOT, VENV, startMoto } from './helpers.mjs';

const SCRIPT = path.join(ROOT, 'scripts/batch-convert');
const TEMPLATE_FILE = path.join(ROOT, 'deploy/batch.yaml');
const template = YAML.parse(readFileSync(TEMPLATE_FILE, 'utf8'));
const PSEUDO = { 'AWS::Partition': 'aws', 'AWS::AccountId': '123456789012', 'AWS::Region': 'us-east-1', 'AWS::StackName': 'imgbatch-batch' };
// A job from s3://photos/2024/ to s3://site/web/, reporting to s3://ops/jobs/.
const PARAMETERS = { SourceBucket: 'photos', SourcePrefix: '2024/', DestinationBucket: 'site', DestinationPrefix: 'web/',
  ReportBucket: 'ops', ReportPrefix: 'jobs/', CodeBucket: 'ops', CodeKey: 'jobs/code/0123abcd.zip' };

/** A template value as CloudFormation resolves it for `parameters`: Ref, Fn::Sub, Fn::If and
 *  conditions evaluated; a resource's Ref is "<Id>" and its attribute "<Id.Attr>"; AWS::NoValue
 *  removes the value. */
function resolve(value, parameters) {
  const again = (v) => resolve(v, parameters);
  const ref = (name) => {
    if (name === 'AWS::NoValue') return undefined;
    if (name in PSEUDO) return PSEUDO[name];
    if (name in template.Parameters) return String(parameters[name] ?? template.Parameters[name].Default);
    assert.ok(template.Resources[name], `${name} is a parameter or a resource`);
    return `<${name}>`;
  };
  if (Array.isArray(value)) return value.map(again).filter((v) => v !== undefined);
  if (value === null || typeof value !== 'object') return value;
  const [[fn, arg], ...more] = Object.entries(value);
  if (more.length === 0 && (fn === 'Ref' || fn.startsWith('Fn::'))) {
    switch (fn) {
      case 'Ref': return ref(arg);
      case 'Fn::GetAtt': return `<${arg.join('.')}>`;
      case 'Fn::If': return again(again(template.Conditions[arg[0]]) ? arg[1] : arg[2]);
      case 'Fn::Equals': return again(arg[0]) === again(arg[1]);
      case 'Fn::Not': return !again(arg[0]);
      case 'Fn::Sub': {
        const [text, variables] = typeof arg === 'string' ? [arg, {}] : [arg[0], again(arg[1])];
        return text.replace(/\$\{([^}]+)\}/g, (_, name) => (name in variables ? variables[name] : name.includes('.') ? `<${name}>` : ref(name)));
      }
      default: assert.fail(`resolve() does not know ${fn}: teach it`);
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, again(v)]).filter(([, v]) => v !== undefined));
}

/** A role's trusted services and its grants as { action: [resources] }, sorted. */
function role(id, parameters) {
  const { AssumeRolePolicyDocument: trust, Policies: policies, ManagedPolicyArns } = resolve(template.Resources[id].Properties, parameters);
  assert.equal(ManagedPolicyArns, undefined, 'no managed policies: every grant is written out here');
  const grants = {};
  for (const statement of policies.flatMap((p) => p.PolicyDocument.Statement)) {
    assert.deepEqual([statement.Effect, statement.NotAction, statement.NotResource, statement.Condition], ['Allow', undefined, undefined, undefined]);
    for (const action of [statement.Action].flat()) grants[action] = [...new Set([...(grants[action] ?? []), ...[statement.Resource].flat()])].sort();
  }
  const services = trust.Statement.map((s) => [s.Effect, s.Action, s.Principal.Service]);
  return { services, grants: Object.fromEntries(Object.entries(grants).sort(([a], [b]) => a.localeCompare(b))) };
}

const roleIds = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === 'AWS::IAM::Role');
const functionProperties = (parameters) => resolve(template.Resources.ConverterFunction.Properties, parameters);

describe('deploy/batch.yaml', () => {
  test('no role grants a wildcard action, a resource "*", or a "*" anywhere but at the end of a folder', () => {
    assert.deepEqual(roleIds.sort(), ['BatchRole', 'ConverterRole']);
    for (const parameters of [PARAMETERS, { ...PARAMETERS, DestinationBucket: '', ReportBucket: '', InventoryBucket: 'inv', InventoryPrefix: 'i/' }]) {
      for (const id of roleIds) {
        for (const [action, resources] of Object.entries(role(id, parameters).grants)) {
          assert.doesNotMatch(action, /\*/, `${id}: ${action}`);
          // A "*" only ends a folder (".../prefix/*"), never stands alone or inside a name.
          for (const resource of resources) assert.match(resource, /^[^*]+(\/\*)?$/, `${id}: ${action} on ${resource}`);
        }
      }
    }
  });

  test('the function\'s role reads only the source folder and writes only the destination folder', () => {
    assert.deepEqual(role('ConverterRole', PARAMETERS), {
      services: [['Allow', 'sts:AssumeRole', 'lambda.amazonaws.com']],
      grants: {
        'logs:CreateLogStream': ['<ConverterLogGroup.Arn>'],
        'logs:PutLogEvents': ['<ConverterLogGroup.Arn>'],
        // The destination's GetObject is HeadObject's permission: does the output exist yet?
        's3:GetObject': ['arn:aws:s3:::photos/2024/*', 'arn:aws:s3:::site/web/*'],
        's3:GetObjectVersion': ['arn:aws:s3:::photos/2024/*'],
        's3:ListBucket': ['arn:aws:s3:::photos', 'arn:aws:s3:::site'],
        's3:PutObject': ['arn:aws:s3:::site/web/*'],
      },
    });
    const fn = functionProperties(PARAMETERS);
    assert.equal(fn.Role, '<ConverterRole.Arn>');
    assert.deepEqual(fn.LoggingConfig, { LogGroup: '<ConverterLogGroup>' }, 'it logs to the group it may write');
  });

  test('a prefix is a folder: "photos" (which IAM would widen to photos-private/) and wildcards are refused', () => {
    for (const name of ['SourcePrefix', 'DestinationPrefix', 'ReportPrefix', 'InventoryPrefix']) {
      const allowed = new RegExp(template.Parameters[name].AllowedPattern);
      for (const ok of ['', 'photos/', 'Trip 2024/été/']) assert.match(ok, allowed, `${name} takes "${ok}"`);
      for (const bad of ['photos', '/photos/', 'a*/', 'a?/', '${aws:username}/']) assert.doesNotMatch(bad, allowed, `${name} refuses "${bad}"`);
    }
  });

  test('the job\'s role only invokes the function and reads and writes the report folder', () => {
    const batch = {
      services: [['Allow', 'sts:AssumeRole', 'batchoperations.s3.amazonaws.com']],
      grants: {
        'lambda:InvokeFunction': ['<ConverterFunction.Arn>'],
        's3:GetBucketLocation': ['arn:aws:s3:::ops'],
        's3:GetObject': ['arn:aws:s3:::ops/jobs/*'],
        's3:GetObjectVersion': ['arn:aws:s3:::ops/jobs/*'],
        's3:PutObject': ['arn:aws:s3:::ops/jobs/*'],
      },
    };
    assert.deepEqual(role('BatchRole', PARAMETERS), batch);
    // An inventory report as the manifest adds reading its folder (manifest.json and data/).
    const inventory = { ...PARAMETERS, InventoryBucket: 'inv', InventoryPrefix: 'inventory/photos/all/' };
    const reads = (action) => ['arn:aws:s3:::inv/inventory/photos/all/*', ...batch.grants[action]];
    assert.deepEqual(role('BatchRole', inventory).grants,
      { ...batch.grants, 's3:GetObject': reads('s3:GetObject'), 's3:GetObjectVersion': reads('s3:GetObjectVersion') });
    assert.deepEqual(resolve(template.Outputs, PARAMETERS), {
      FunctionArn: { Description: template.Outputs.FunctionArn.Description, Value: '<ConverterFunction.Arn>' },
      BatchRoleArn: { Description: template.Outputs.BatchRoleArn.Description, Value: '<BatchRole.Arn>' },
      DestinationBucketName: { Description: template.Outputs.DestinationBucketName.Description, Value: 'site' },
      LogGroupName: { Description: template.Outputs.LogGroupName.Description, Value: '<ConverterLogGroup>' },
    });
  });

  test('without a destination bucket the stack makes a private, encrypted one and grants only that', () => {
    const own = { ...PARAMETERS, DestinationBucket: '', ReportBucket: '' };
    const bucket = template.Resources.OutputBucket;
    assert.equal(resolve(template.Conditions[bucket.Condition], own), true);
    assert.equal(resolve(template.Conditions[bucket.Condition], PARAMETERS), false, 'a given bucket is used, none is made');
    assert.deepEqual(bucket.Properties.PublicAccessBlockConfiguration,
      { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.deepEqual(bucket.Properties.OwnershipControls.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    assert.ok(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm);
    assert.equal(bucket.DeletionPolicy, 'Retain', 'deleting the stack keeps the converted photos');
    assert.deepEqual(role('ConverterRole', own).grants['s3:PutObject'], ['arn:aws:s3:::<OutputBucket>/web/*']);
    assert.deepEqual(role('BatchRole', own).grants['s3:PutObject'], ['arn:aws:s3:::<OutputBucket>/jobs/*'], 'reports go to it too');
    assert.equal(functionProperties(own).Environment.Variables.IMGBATCH_DEST, 's3://<OutputBucket>/web/');
  });

  test('the function runs imgbatch-lambda\'s zip with the configuration its contract reads', () => {
    const fn = functionProperties({ ...PARAMETERS, Preset: 'thumbnails', Overwrite: 'true' });
    assert.deepEqual([fn.Runtime, fn.Handler, fn.Architectures, fn.MemorySize, fn.Timeout], ['provided.al2023', 'bootstrap', ['arm64'], '2048', '300']);
    assert.deepEqual(fn.Code, { S3Bucket: 'ops', S3Key: 'jobs/code/0123abcd.zip' });
    assert.deepEqual(fn.Environment.Variables, {
      IMGBATCH_PRESET: 'thumbnails', IMGBATCH_DEST: 's3://site/web/', IMGBATCH_SOURCE_PREFIX: '2024/', IMGBATCH_OVERWRITE: 'true',
    });
    const p = template.Parameters;
    assert.deepEqual([p.MemorySize.MinValue, p.MemorySize.MaxValue, p.Timeout.MaxValue], [128, 10240, 900], 'Lambda\'s own limits');
    assert.deepEqual(p.Architecture.AllowedValues, ['arm64', 'x86_64']);
    assert.ok(template.Resources.ConverterLogGroup.Properties.RetentionInDays > 0, 'logs expire');
  });
});

describe('scripts/batch-convert --dry-run against a local AWS', () => {
  let moto;
  const aws = (...args) => JSON.parse(execFileSync('aws', [...args, '--output', 'json'], { env: moto.env, encoding: 'utf8' }) || 'null');
  const convert = (...args) => spawnSync(SCRIPT, args, { env: moto.env, encoding: 'utf8' });
  const photo = path.join(CORPUS, 'exif-orientation-examples/Landscape_6.jpg');

  before(async () => {
    moto = await startMoto();
    aws('s3api', 'create-bucket', '--bucket', 'photos');
    aws('s3api', 'create-bucket', '--bucket', 'site');
    // A space, a non-ASCII letter, and characters a CSV or URL decoder would misread; a photo
    // outside the folder; and a folder marker (what the S3 console's "Create folder" makes).
    const dir = mkdtempSync(path.join(os.tmpdir(), 'imgbatch-photos-'));
    for (const key of ['shoot/a.jpg', 'shoot/day 2/b c.jpg', 'shoot/café.jpg', 'shoot/100%+1,5.jpg', 'other/x.jpg']) {
      mkdirSync(path.dirname(path.join(dir, key)), { recursive: true });
      copyFileSync(photo, path.join(dir, key));
    }
    execFileSync('aws', ['s3', 'cp', '--recursive', '--quiet', dir, 's3://photos/'], { env: moto.env });
    rmSync(dir, { recursive: true });
    aws('s3api', 'put-object', '--bucket', 'photos', '--key', 'shoot/empty/');
  });

  after(() => moto?.stop());

  /** Every bucket, object and stack in the account. */
  const everything = () => {
    const buckets = aws('s3api', 'list-buckets').Buckets.map((b) => b.Name);
    const objects = buckets.map((bucket) => aws('s3api', 'list-objects-v2', '--bucket', bucket)?.Contents ?? []);
    return { buckets, objects, stacks: aws('cloudformation', 'list-stacks').StackSummaries };
  };

  test('prints the manifest, every key URL-encoded, and a LambdaInvoke 2.0 job reporting to the report folder; creates nothing', () => {
    const before = everything();
    assert.equal(before.objects.flat().length, 6, 'the photos are there to be listed');
    const run = convert('--source', 's3://photos/shoot', '--dest', 's3://site/web', '--preset', 'web-2048', '--dry-run');
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.ok(lines.includes('would run: cargo lambda build --release --arm64 --bin imgbatch-lambda --output-format zip'), run.stdout);
    const deploy = lines.find((l) => l.startsWith('would run: aws cloudformation deploy '));
    for (const part of ['--stack-name imgbatch-batch', '--capabilities CAPABILITY_IAM', 'SourceBucket=photos', 'SourcePrefix=shoot/',
      'DestinationBucket=site', 'DestinationPrefix=web/', 'ReportBucket=site', 'ReportPrefix=imgbatch-jobs/', 'Preset=web-2048']) {
      assert.ok(deploy?.includes(` ${part}`), `the deploy command has ${part}: ${deploy}`);
    }

    const at = lines.findIndex((l) => l.startsWith('would upload the manifest to '));
    const manifestUrl = /^would upload the manifest to (s3:\/\/\S+)/.exec(lines[at])[1];
    const listed = lines.slice(at + 1);
    const manifest = listed.slice(0, listed.findIndex((l) => !l.startsWith('  '))).map((l) => l.trim());
    assert.deepEqual(manifest, [
      'photos,shoot/100%25%2B1%2C5.jpg',
      'photos,shoot/a.jpg',
      'photos,shoot/caf%C3%A9.jpg',
      'photos,shoot/day%202/b%20c.jpg',
    ], 'every photo under shoot/, keys URL-encoded; no folder marker, nothing outside');

    const json = run.stdout.slice(run.stdout.indexOf('{', run.stdout.indexOf('would create the job:')));
    const request = JSON.parse(json.slice(0, json.indexOf('\n}\n') + 2));
    assert.equal(request.AccountId, '123456789012', 'the caller\'s account, from STS');
    assert.equal(request.ConfirmationRequired, false);
    assert.deepEqual(Object.keys(request.Operation), ['LambdaInvoke']);
    assert.equal(request.Operation.LambdaInvoke.InvocationSchemaVersion, '2.0');
    assert.ok(request.Operation.LambdaInvoke.FunctionArn, 'names the stack\'s function');
    assert.deepEqual(request.Manifest.Spec, { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key'] });
    assert.match(request.Manifest.Location.ObjectArn, /^arn:aws:s3:::site\/imgbatch-jobs\/manifests\/[^/]+\.csv$/);
    assert.equal(request.Manifest.Location.ObjectArn, `arn:aws:s3:::${manifestUrl.slice('s3://'.length)}`, 'the manifest it uploads');
    assert.deepEqual(request.Report,
      { Bucket: 'arn:aws:s3:::site', Prefix: 'imgbatch-jobs/reports', Format: 'Report_CSV_20180820', Enabled: true, ReportScope: 'AllTasks' });
    assert.ok(request.RoleArn && request.ClientRequestToken && request.Priority >= 0);

    assert.deepEqual(everything(), before, 'no bucket, object or stack was made');
  });

  test('refuses a destination inside the photos, which a later run would convert again', () => {
    const run = convert('--source', 's3://photos/shoot', '--dest', 's3://photos/shoot/web', '--preset', 'web-2048', '--dry-run');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /source and destination folders overlap/);
  });
});
