export const id = 478;
export const ids = [478];
export const modules = {

/***/ 8478:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   ensureGarRepository: () => (/* binding */ ensureGarRepository)
/* harmony export */ });
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3916);
/* harmony import */ var _log_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(5625);
/* harmony import */ var _types_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(5520);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(6425);




/**
 * Makes sure a Docker-format Artifact Registry repository exists. Looks it up first, so the common case needs
 * only read access; creates it otherwise and waits for the operation; ALREADY_EXISTS (a parallel job won the
 * race) counts as success.
 */
async function ensureGarRepository(session, ref, options = {}) {
    const logger = options.logger ?? new _log_js__WEBPACK_IMPORTED_MODULE_1__/* .NullLogger */ .Q5();
    const existing = await getRepository(session, ref);
    if (existing)
        return { created: false, immutable: checkFormat(existing, ref) };
    const created = await createRepository(session, ref, options);
    if (!created) {
        logger.info(`Artifact Registry repository ${ref.repository} was created by another job`);
        const repo = await getRepository(session, ref);
        return { created: false, immutable: repo ? checkFormat(repo, ref) : false };
    }
    logger.info(`Created Artifact Registry repository ${repositoryName(ref)}`);
    return { created: true, immutable: options.immutableTags ?? false };
}
function parent(ref) {
    return `projects/${ref.project}/locations/${ref.location}`;
}
function repositoryName(ref) {
    return `${parent(ref)}/repositories/${ref.repository}`;
}
function checkFormat(repo, ref) {
    if (repo.format && repo.format !== 'DOCKER') {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Artifact Registry repository ${repositoryName(ref)} has format ${repo.format}; container images need a ` +
            'DOCKER repository. Point the registry at a Docker-format repository.');
    }
    return repo.dockerConfig?.immutableTags === true;
}
async function getRepository(session, ref) {
    try {
        const res = await session.client.request({
            url: `${session.endpoints.artifactRegistry}/v1/${repositoryName(ref)}`,
            method: 'GET',
            responseType: 'json',
            retry: true,
        });
        return res.data;
    }
    catch (error) {
        const info = (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .googleErrorInfo */ .E)(error);
        if (info.status === 404)
            return undefined;
        throw arError(info, session, ref, 'look up', 'artifactregistry.repositories.get');
    }
}
/** True when this call created it, false when it already existed. */
async function createRepository(session, ref, o) {
    let operation;
    try {
        const res = await session.client.request({
            url: `${session.endpoints.artifactRegistry}/v1/${parent(ref)}/repositories?repositoryId=${encodeURIComponent(ref.repository)}`,
            method: 'POST',
            responseType: 'json',
            data: {
                format: 'DOCKER',
                ...(o.description ? { description: o.description } : {}),
                ...(o.labels ? { labels: o.labels } : {}),
                ...(o.kmsKeyName ? { kmsKeyName: o.kmsKeyName } : {}),
                ...(o.immutableTags !== undefined ? { dockerConfig: { immutableTags: o.immutableTags } } : {}),
            },
        });
        operation = res.data;
    }
    catch (error) {
        const info = (0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .googleErrorInfo */ .E)(error);
        if (info.status === 409 || info.apiStatus === 'ALREADY_EXISTS')
            return false;
        throw arError(info, session, ref, 'create', 'artifactregistry.repositories.create');
    }
    await waitForOperation(session, operation, ref, o);
    return true;
}
async function waitForOperation(session, first, ref, o) {
    const sleep = o.sleep ?? _types_js__WEBPACK_IMPORTED_MODULE_3__/* .realSleep */ .u;
    const timeout = o.timeoutMs ?? 60_000;
    let op = first;
    // The budget counts time spent waiting between polls, so it does not depend on the wall clock.
    let waited = 0;
    for (let delay = 250; !op.done; delay = Math.min(delay * 2, 5000)) {
        if (!op.name || waited + delay > timeout) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Creating Artifact Registry repository ${repositoryName(ref)} did not finish in time.`);
        }
        await sleep(delay);
        waited += delay;
        try {
            op = (await session.client.request({
                url: `${session.endpoints.artifactRegistry}/v1/${op.name}`,
                method: 'GET',
                responseType: 'json',
                retry: true,
            })).data;
        }
        catch (error) {
            throw arError((0,_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .googleErrorInfo */ .E)(error), session, ref, 'create', 'artifactregistry.repositories.create');
        }
    }
    if (op.error) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Creating Artifact Registry repository ${repositoryName(ref)} failed: ${op.error.message ?? 'unknown error'}.`);
    }
}
function identity(session) {
    if (session.serviceAccount)
        return `serviceAccount:${session.serviceAccount}`;
    const p = session.provider;
    return `principalSet://iam.googleapis.com/projects/${p.projectNumber}/locations/global/workloadIdentityPools/${p.pool}/attribute.repository/OWNER/REPO`;
}
function arError(info, session, ref, doing, permission) {
    const what = `Artifact Registry repository ${repositoryName(ref)}`;
    const reason = info.apiStatus ? `${info.apiStatus}: ${info.message}` : info.message;
    const numberHint = /^\d+$/.test(ref.project)
        ? ` '${ref.project}' looks like a project number; Artifact Registry image paths use the project ID ` +
            `(LOCATION-docker.pkg.dev/PROJECT_ID/REPOSITORY).`
        : '';
    if (info.reasons.includes('SERVICE_DISABLED') ||
        /has not been used in project|is disabled/i.test(info.message)) {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Could not ${doing} ${what} because the Artifact Registry API is not enabled (${reason}). Enable it: ` +
            `gcloud services enable artifactregistry.googleapis.com --project=${ref.project}`);
    }
    if (info.status === 403) {
        const fix = doing === 'create'
            ? ` Grant ${identity(session)} a role with ${permission} on project ${ref.project} (e.g. ` +
                `roles/artifactregistry.admin), or set 'create-repository: false' and create it once: gcloud artifacts ` +
                `repositories create ${ref.repository} --repository-format=docker --location=${ref.location} ` +
                `--project=${ref.project}`
            : ` Grant ${identity(session)} ${permission} (roles/artifactregistry.reader or writer) on it, and check ` +
                `that project '${ref.project}' exists.`;
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Not allowed to ${doing} ${what} (${reason}).${fix}${numberHint}`);
    }
    if (info.status === 400)
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .InputError */ .dz('registry', `Artifact Registry refused ${what} (${reason}).`);
    if (info.status === 404)
        return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Could not ${doing} ${what}: project or location not found (${reason}).${numberHint}`);
    return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Could not ${doing} ${what} (${reason}).`);
}


/***/ }),

/***/ 6425:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   E: () => (/* binding */ googleErrorInfo)
/* harmony export */ });
function googleErrorInfo(error) {
    if (!(error instanceof Error))
        return { message: String(error), reasons: [] };
    const e = error;
    const status = typeof e.status === 'number'
        ? e.status
        : typeof e.response?.status === 'number'
            ? e.response.status
            : undefined;
    const url = e.config?.url instanceof URL
        ? e.config.url.href
        : typeof e.config?.url === 'string'
            ? e.config.url
            : undefined;
    const apiError = apiErrorOf(e.response?.data);
    return {
        message: apiError?.message ?? error.message,
        status,
        url,
        apiStatus: apiError?.status,
        reasons: apiError?.reasons ?? [],
    };
}
function apiErrorOf(data) {
    if (typeof data !== 'object' || data === null || !('error' in data))
        return undefined;
    const err = data.error;
    if (typeof err !== 'object' || err === null)
        return undefined;
    const { message, status, details } = err;
    const reasons = Array.isArray(details)
        ? details.flatMap((d) => typeof d === 'object' && d !== null && typeof d.reason === 'string'
            ? [d.reason]
            : [])
        : [];
    return {
        message: typeof message === 'string' ? message : undefined,
        status: typeof status === 'string' ? status : undefined,
        reasons,
    };
}


/***/ }),

/***/ 5520:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   u: () => (/* binding */ realSleep)
/* harmony export */ });
/**
 * Data the cloud modules hand back to the caller. They never run `docker login` themselves: the caller decides
 * where credentials go (a per-job DOCKER_CONFIG, buildx, an HTTP check), so they are returned as plain values.
 */
const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));


/***/ })

};
