export const id = 949;
export const ids = [949];
export const modules = {

/***/ 9949:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   ECR_INPUTS: () => (/* binding */ ECR_INPUTS),
/* harmony export */   checkImageViaEcr: () => (/* binding */ checkImageViaEcr),
/* harmony export */   connectEcr: () => (/* binding */ connectEcr),
/* harmony export */   ensureRepository: () => (/* binding */ ensureRepository),
/* harmony export */   getEcrLoginCredentials: () => (/* binding */ getEcrLoginCredentials),
/* harmony export */   getEcrPublicLoginCredentials: () => (/* binding */ getEcrPublicLoginCredentials),
/* harmony export */   sdkCredentials: () => (/* binding */ sdkCredentials)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(8249);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3916);
/* harmony import */ var _log_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(5625);
/* harmony import */ var _secrets_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6924);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(7464);





/** Input names the ECR messages point users at. */
const ECR_INPUTS = {
    createRepository: 'create-repository',
    tagMutability: 'ecr-tag-mutability',
    scanOnPush: 'ecr-scan-on-push',
    kmsKey: 'ecr-kms-key',
    tags: 'ecr-repository-tags',
    lifecyclePolicy: 'ecr-lifecycle-policy',
};
/**
 * A client for the registry's own account and region. FIPS and dual-stack registry hosts get the matching API
 * endpoints, so traffic stays on the network path the user chose. An endpoint set through
 * `AWS_ENDPOINT_URL_ECR` / `AWS_ENDPOINT_URL` (a VPC endpoint, say) wins, and then the flags must stay off: the
 * SDK refuses "FIPS and custom endpoint" together.
 */
function connectEcr(registry, credentials, env = process.env) {
    const customEndpoint = Boolean(env.AWS_ENDPOINT_URL_ECR || env.AWS_ENDPOINT_URL);
    const client = new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_3__/* .ECRClient */ .S70({
        region: registry.region,
        credentials: sdkCredentials(credentials),
        ...(customEndpoint ? {} : { useFipsEndpoint: registry.fips, useDualstackEndpoint: registry.dualStack }),
    });
    return { client, region: registry.region, registryId: registry.accountId, host: registry.host };
}
function sdkCredentials(c) {
    return {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: c.expiration,
    };
}
/**
 * `docker login` credentials for a private registry: GetAuthorizationToken decodes to `AWS:<password>`. Both the
 * password and the base64 token are masked (docker's config.json stores exactly that base64 string). The
 * account ID is left visible on purpose: masking it would turn every image URI output into `***`, and GitHub
 * drops masked job outputs.
 */
async function getEcrLoginCredentials(ecr, mask = _secrets_js__WEBPACK_IMPORTED_MODULE_1__/* .maskInLog */ .o) {
    try {
        const out = await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_3__/* .GetAuthorizationTokenCommand */ .Eu6({ registryIds: [ecr.registryId] }));
        const data = out.authorizationData?.[0];
        return decodeAuthorizationToken(data?.authorizationToken, ecr.host, data?.expiresAt, mask);
    }
    catch (error) {
        throw ecrError(error, 'get a login token for', ecr.host, 'ecr:GetAuthorizationToken');
    }
}
/** ECR Public's login (`public.ecr.aws`); its API lives only in us-east-1. The SDK loads only when needed. */
async function getEcrPublicLoginCredentials(credentials, mask = _secrets_js__WEBPACK_IMPORTED_MODULE_1__/* .maskInLog */ .o) {
    const { ECRPUBLICClient, GetAuthorizationTokenCommand: PublicTokenCommand } = await __webpack_require__.e(/* import() */ 821).then(__webpack_require__.t.bind(__webpack_require__, 9821, 19));
    const client = new ECRPUBLICClient({ region: 'us-east-1', credentials: sdkCredentials(credentials) });
    try {
        const out = await client.send(new PublicTokenCommand({}));
        const data = out.authorizationData;
        return decodeAuthorizationToken(data?.authorizationToken, 'public.ecr.aws', data?.expiresAt, mask);
    }
    catch (error) {
        throw ecrError(error, 'get a login token for', 'public.ecr.aws', 'ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken');
    }
    finally {
        client.destroy();
    }
}
function decodeAuthorizationToken(token, registry, expiresAt, mask) {
    if (!token)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`ECR returned no authorization token for ${registry}.`);
    mask(token);
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`ECR returned an authorization token for ${registry} in an unknown format.`);
    const password = decoded.slice(colon + 1);
    mask(password);
    return { registry, username: decoded.slice(0, colon), password, expiresAt };
}
// ECR's documented repository name pattern.
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/**
 * Makes sure `name` exists. ECR has no create-on-push, so a first push to a new name fails with "name unknown";
 * creating it here removes that step. Looking it up first keeps the common case (it exists) to one read-only
 * call that needs no create permission.
 */
async function ensureRepository(ecr, name, options = {}) {
    validateRepositoryName(name);
    const policy = options.lifecyclePolicy === undefined ? undefined : validateLifecyclePolicy(options.lifecyclePolicy);
    const logger = options.logger ?? new _log_js__WEBPACK_IMPORTED_MODULE_4__/* .NullLogger */ .Q5();
    let repository = await describeRepository(ecr, name);
    let created = false;
    if (repository) {
        warnOnIgnoredSettings(repository, options, logger);
    }
    else {
        const outcome = await createRepository(ecr, name, options);
        created = outcome.created;
        // Lost a race with a parallel job: read what that job created.
        repository = outcome.repository ?? (await describeRepository(ecr, name));
        logger.info(created ? `Created ECR repository ${name}` : `ECR repository ${name} was created by another job`);
    }
    if (policy !== undefined)
        await putLifecyclePolicy(ecr, name, policy);
    return { created, immutable: isImmutable(repository?.imageTagMutability) };
}
function isImmutable(mutability) {
    return mutability?.startsWith('IMMUTABLE') ?? false;
}
function validateRepositoryName(name) {
    if (name.length >= 2 && name.length <= 256 && REPOSITORY_NAME.test(name))
        return;
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`'${name}' is not a valid ECR repository name: it must be 2 to 256 lower-case letters, digits and ` +
        "'.', '_', '-' separators, with '/' between path parts. Lower-case the image name and the registry path.");
}
function validateLifecyclePolicy(text) {
    try {
        JSON.parse(text);
        return text;
    }
    catch (error) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(ECR_INPUTS.lifecyclePolicy, `is not valid JSON (${error.message}).`);
    }
}
async function describeRepository(ecr, name) {
    try {
        const out = await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_3__/* .DescribeRepositoriesCommand */ .pE_({ registryId: ecr.registryId, repositoryNames: [name] }));
        return out.repositories?.[0];
    }
    catch (error) {
        if ((0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .awsErrorInfo */ .sR)(error).name === 'RepositoryNotFoundException')
            return undefined;
        throw ecrError(error, 'look up the repository', `${ecr.host}/${name}`, 'ecr:DescribeRepositories', createHint(ecr, name));
    }
}
async function createRepository(ecr, name, options) {
    try {
        const out = await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_3__/* .CreateRepositoryCommand */ .WTe(createInput(ecr, name, options)));
        return { created: true, repository: out.repository };
    }
    catch (error) {
        const info = (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .awsErrorInfo */ .sR)(error);
        if (info.name === 'RepositoryAlreadyExistsException')
            return { created: false };
        throw createError(error, info, ecr, name);
    }
}
function createInput(ecr, name, o) {
    const encryptionType = o.encryptionType ?? (o.kmsKey ? 'KMS' : 'AES256');
    return {
        registryId: ecr.registryId,
        repositoryName: name,
        imageTagMutability: o.tagMutability ?? 'MUTABLE',
        imageScanningConfiguration: { scanOnPush: o.scanOnPush ?? true },
        encryptionConfiguration: { encryptionType, ...(o.kmsKey ? { kmsKey: o.kmsKey } : {}) },
        tags: Object.entries(o.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    };
}
function createError(error, info, ecr, name) {
    const reason = `${info.name}: ${info.message}`;
    if (info.name === 'KmsException') {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(ECR_INPUTS.kmsKey, `ECR could not use the KMS key for ${name} (${reason}). Check the key exists in ${ecr.region} and that ` +
            'the role may use it (kms:CreateGrant, kms:DescribeKey, kms:Encrypt, kms:Decrypt, kms:GenerateDataKey*).');
    }
    if (info.name === 'InvalidTagParameterException' || info.name === 'TooManyTagsException') {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(ECR_INPUTS.tags, `ECR refused the repository tags (${reason}).`);
    }
    if (info.name === 'LimitExceededException') {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`ECR could not create ${name} because the account is at a service quota (${reason}). Raise the ` +
            `quota or delete unused repositories, or set '${ECR_INPUTS.createRepository}: false'.`);
    }
    return ecrError(error, 'create the repository', `${ecr.host}/${name}`, 'ecr:CreateRepository', createHint(ecr, name));
}
function createHint(ecr, name) {
    return (`Or set '${ECR_INPUTS.createRepository}: false' and create it once yourself: ` +
        `aws ecr create-repository --repository-name ${name} --region ${ecr.region}.`);
}
function warnOnIgnoredSettings(repository, o, logger) {
    const name = repository.repositoryName ?? '';
    if (o.tagMutability && isImmutable(repository.imageTagMutability) !== (o.tagMutability === 'IMMUTABLE')) {
        logger.warning(`ECR repository ${name} already exists with tag mutability ${repository.imageTagMutability ?? 'unknown'}; ` +
            `'${ECR_INPUTS.tagMutability}: ${o.tagMutability}' only applies to repositories the action creates.`);
    }
    if (o.kmsKey && repository.encryptionConfiguration?.kmsKey !== o.kmsKey) {
        logger.warning(`ECR repository ${name} already exists with other encryption settings; '${ECR_INPUTS.kmsKey}' only ` +
            'applies to repositories the action creates (encryption cannot be changed afterwards).');
    }
}
async function putLifecyclePolicy(ecr, name, policy) {
    try {
        await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_3__/* .PutLifecyclePolicyCommand */ .Rcn({
            registryId: ecr.registryId,
            repositoryName: name,
            lifecyclePolicyText: policy,
        }));
    }
    catch (error) {
        const info = (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .awsErrorInfo */ .sR)(error);
        if (info.name === 'InvalidParameterException') {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz(ECR_INPUTS.lifecyclePolicy, `ECR rejected the policy (${info.message}).`);
        }
        throw ecrError(error, 'set the lifecycle policy of', `${ecr.host}/${name}`, 'ecr:PutLifecyclePolicy', `Or remove '${ECR_INPUTS.lifecyclePolicy}'.`);
    }
}
const MANIFEST_TYPES = [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
];
/**
 * Whether `repository:tag` exists, through the ECR API (no docker, no registry round trip). Fails closed: only
 * "no such repository" and "no such image" mean "absent"; anything else throws, because treating an error as
 * "exists" skips a build and ships a stale or missing image.
 */
async function checkImageViaEcr(ecr, repository, tag) {
    try {
        return await batchGetImage(ecr, repository, tag);
    }
    catch (error) {
        // Pull-style policies grant BatchGetImage, read-only ones DescribeImages: accept either.
        if (!(0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .isAccessDenied */ .w7)((0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .awsErrorInfo */ .sR)(error)))
            throw checkError(error, ecr, repository, tag);
        try {
            return await describeImage(ecr, repository, tag);
        }
        catch (second) {
            throw checkError(second, ecr, repository, tag);
        }
    }
}
async function batchGetImage(ecr, repository, tag) {
    try {
        const out = await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_3__/* .BatchGetImageCommand */ .P8n({
            registryId: ecr.registryId,
            repositoryName: repository,
            imageIds: [{ imageTag: tag }],
            acceptedMediaTypes: MANIFEST_TYPES,
        }));
        const digest = out.images?.[0]?.imageId?.imageDigest;
        if (digest)
            return { exists: true, digest };
        const failure = out.failures?.[0];
        if (!failure || failure.failureCode === 'ImageNotFound')
            return { exists: false };
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`ECR could not report on ${ecr.host}/${repository}:${tag} (${failure.failureCode ?? 'unknown'}: ` +
            `${failure.failureReason ?? 'no reason given'}); not building blind, so the step stops here.`);
    }
    catch (error) {
        if ((0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .awsErrorInfo */ .sR)(error).name === 'RepositoryNotFoundException')
            return { exists: false };
        throw error;
    }
}
async function describeImage(ecr, repository, tag) {
    try {
        const out = await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_3__/* .DescribeImagesCommand */ .ji5({
            registryId: ecr.registryId,
            repositoryName: repository,
            imageIds: [{ imageTag: tag }],
        }));
        const digest = out.imageDetails?.[0]?.imageDigest;
        return digest ? { exists: true, digest } : { exists: false };
    }
    catch (error) {
        const name = (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .awsErrorInfo */ .sR)(error).name;
        if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException')
            return { exists: false };
        throw error;
    }
}
function checkError(error, ecr, repository, tag) {
    if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ)
        return error;
    const info = (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .awsErrorInfo */ .sR)(error);
    if ((0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .isAccessDenied */ .w7)(info)) {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Not allowed to check whether ${ecr.host}/${repository}:${tag} exists (${info.name}: ${info.message}). ` +
            `Grant the role ecr:BatchGetImage (or ecr:DescribeImages) on the repository. The action does not ` +
            'guess "exists" on errors, because that would skip a needed build.');
    }
    return ecrError(error, 'check for the image', `${ecr.host}/${repository}:${tag}`, 'ecr:BatchGetImage');
}
/**
 * An ActionError for a failed ECR call. AccessDenied names the IAM action and the fix; everything else keeps
 * AWS's own code and message, which name the problem well enough.
 */
function ecrError(error, doing, what, permission, hint) {
    if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ)
        return error;
    const info = (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .awsErrorInfo */ .sR)(error);
    const reason = `${info.name}: ${info.message}`;
    if ((0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .isAccessDenied */ .w7)(info)) {
        const action = (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .deniedAction */ .Ub)(info.message) ?? permission;
        const sentences = [`Not allowed to ${doing} ${what} (${reason}).`, `Grant the role ${action}.`];
        if (hint)
            sentences.push(hint);
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(sentences.join(' '));
    }
    if (info.name === 'UnrecognizedClientException' || info.name === 'InvalidSignatureException') {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`AWS did not accept the credentials while trying to ${doing} ${what} (${reason}). If keys come from an ` +
            "earlier step, check they are current; with 'aws-role-to-assume' this points at a clock or region problem.");
    }
    return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Could not ${doing} ${what} (${reason}).`);
}


/***/ }),

/***/ 7464:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   E2: () => (/* binding */ isThrottling),
/* harmony export */   Ub: () => (/* binding */ deniedAction),
/* harmony export */   dg: () => (/* binding */ isTransient),
/* harmony export */   sR: () => (/* binding */ awsErrorInfo),
/* harmony export */   w7: () => (/* binding */ isAccessDenied)
/* harmony export */ });
function awsErrorInfo(error) {
    if (!(error instanceof Error))
        return { name: 'Error', message: String(error), retryable: false };
    const fields = error;
    return {
        name: typeof fields.Code === 'string' ? fields.Code : error.name,
        message: error.message,
        httpStatus: fields.$metadata?.httpStatusCode,
        retryable: fields.$retryable !== undefined && fields.$retryable !== null,
        code: typeof fields.code === 'string' ? fields.code : undefined,
    };
}
const THROTTLING = new Set([
    'Throttling',
    'ThrottlingException',
    'ThrottledException',
    'RequestThrottled',
    'RequestThrottledException',
    'RequestLimitExceeded',
    'TooManyRequestsException',
    'ProvisionedThroughputExceededException',
    'SlowDown',
]);
const TRANSIENT = new Set([
    'ServiceUnavailable',
    'ServiceUnavailableException',
    'InternalFailure',
    'InternalError',
    'InternalServerError',
    'RequestTimeout',
    'RequestTimeoutException',
    'TimeoutError',
    'IDPCommunicationError',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);
function isThrottling(info) {
    return THROTTLING.has(info.name) || info.httpStatus === 429;
}
/** Throttling, 5xx and network errors: worth another try after a pause. */
function isTransient(info) {
    return (info.retryable ||
        isThrottling(info) ||
        TRANSIENT.has(info.name) ||
        (info.httpStatus !== undefined && info.httpStatus >= 500) ||
        (info.code !== undefined && NETWORK_CODES.has(info.code)));
}
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
function isAccessDenied(info) {
    return ACCESS_DENIED.has(info.name) || /not authorized to perform/i.test(info.message);
}
/** "ecr:CreateRepository" from an AccessDenied message, when AWS names the action. */
function deniedAction(message) {
    return /not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9]+)/i.exec(message)?.[1];
}


/***/ })

};
