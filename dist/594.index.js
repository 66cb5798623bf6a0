export const id = 594;
export const ids = [594];
export const modules = {

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


/***/ }),

/***/ 3594:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   deleteEcrTags: () => (/* binding */ deleteEcrTags),
/* harmony export */   listEcrTags: () => (/* binding */ listEcrTags),
/* harmony export */   tagEcrImage: () => (/* binding */ tagEcrImage)
/* harmony export */ });
/* harmony import */ var _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(8249);
/* harmony import */ var _cloud_aws_errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7464);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3916);
/**
 * Preview tags on ECR through its own API: BatchGetImage + PutImage adds a tag to an image already in the
 * repository (the manifest is copied, nothing is uploaded), ListImages finds tags, BatchDeleteImage removes tags.
 * Loaded lazily, like the rest of the AWS SDK.
 */



const MANIFEST_TYPES = [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
];
/**
 * Points `tag` at the image `digest`. An identical existing tag is success (ImageAlreadyExistsException). In an
 * IMMUTABLE repository a new tag is accepted, but a tag that already names another image cannot move:
 * that is reported as `immutable-elsewhere` for the caller to explain.
 */
async function tagEcrImage(ecr, repository, digest, tag) {
    const where = `${ecr.host}/${repository}`;
    let manifest;
    let mediaType;
    try {
        const out = await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_2__/* .BatchGetImageCommand */ .P8n({
            registryId: ecr.registryId,
            repositoryName: repository,
            imageIds: [{ imageDigest: digest }],
            acceptedMediaTypes: MANIFEST_TYPES,
        }));
        manifest = out.images?.[0]?.imageManifest;
        mediaType = out.images?.[0]?.imageManifestMediaType;
        if (!manifest) {
            const f = out.failures?.[0];
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`ECR has no image ${where}@${digest} to tag (${f?.failureCode ?? 'no manifest'}: ${f?.failureReason ?? ''}).`);
        }
    }
    catch (error) {
        throw ecrTagError(error, `read ${where}@${digest}`, 'ecr:BatchGetImage');
    }
    try {
        await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_2__/* .PutImageCommand */ .SUU({
            registryId: ecr.registryId,
            repositoryName: repository,
            imageManifest: manifest,
            ...(mediaType ? { imageManifestMediaType: mediaType } : {}),
            imageDigest: digest,
            imageTag: tag,
        }));
        return 'tagged';
    }
    catch (error) {
        const name = (0,_cloud_aws_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .awsErrorInfo */ .sR)(error).name;
        if (name === 'ImageAlreadyExistsException')
            return 'already-tagged';
        if (name === 'ImageTagAlreadyExistsException')
            return 'immutable-elsewhere';
        throw ecrTagError(error, `tag ${where}:${tag}`, 'ecr:PutImage');
    }
}
/** Every tag in the repository with the digest it points at; a missing repository has none. */
async function listEcrTags(ecr, repository) {
    const tags = new Map();
    let nextToken;
    try {
        do {
            const out = await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_2__/* .ListImagesCommand */ .W_n({
                registryId: ecr.registryId,
                repositoryName: repository,
                filter: { tagStatus: 'TAGGED' },
                maxResults: 1000,
                ...(nextToken ? { nextToken } : {}),
            }));
            for (const id of out.imageIds ?? [])
                if (id.imageTag && id.imageDigest)
                    tags.set(id.imageTag, id.imageDigest);
            nextToken = out.nextToken;
        } while (nextToken);
    }
    catch (error) {
        if ((0,_cloud_aws_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .awsErrorInfo */ .sR)(error).name === 'RepositoryNotFoundException')
            return tags;
        throw ecrTagError(error, `list the images of ${ecr.host}/${repository}`, 'ecr:ListImages');
    }
    return tags;
}
/**
 * Removes tags. ECR untags an image that has other tags and deletes it only with its last tag, so an image
 * still named by another tag stays. A tag that is already gone is success.
 */
async function deleteEcrTags(ecr, repository, tags) {
    const deleted = [];
    const gone = [];
    for (let i = 0; i < tags.length; i += 100) {
        const batch = tags.slice(i, i + 100);
        try {
            const out = await ecr.client.send(new _aws_sdk_client_ecr__WEBPACK_IMPORTED_MODULE_2__/* .BatchDeleteImageCommand */ .wau({
                registryId: ecr.registryId,
                repositoryName: repository,
                imageIds: batch.map((imageTag) => ({ imageTag })),
            }));
            for (const id of out.imageIds ?? [])
                if (id.imageTag)
                    deleted.push(id.imageTag);
            for (const f of out.failures ?? []) {
                const tag = f.imageId?.imageTag ?? '';
                if (f.failureCode === 'ImageNotFound' || f.failureCode === 'ImageTagDoesNotMatchDigest')
                    gone.push(tag);
                else
                    throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`ECR could not delete ${ecr.host}/${repository}:${tag} (${f.failureCode ?? 'unknown'}: ${f.failureReason ?? ''}).`);
            }
        }
        catch (error) {
            if ((0,_cloud_aws_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .awsErrorInfo */ .sR)(error).name === 'RepositoryNotFoundException') {
                gone.push(...batch);
                continue;
            }
            throw ecrTagError(error, `delete tags in ${ecr.host}/${repository}`, 'ecr:BatchDeleteImage');
        }
    }
    return { deleted, gone };
}
function ecrTagError(error, doing, permission) {
    if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ)
        return error;
    const info = (0,_cloud_aws_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .awsErrorInfo */ .sR)(error);
    if ((0,_cloud_aws_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .isAccessDenied */ .w7)(info))
        return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`Not allowed to ${doing} (${info.name}: ${info.message}). Grant the role ${permission}.`);
    return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`Could not ${doing} (${info.name}: ${info.message}).`);
}


/***/ })

};
