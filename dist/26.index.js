export const id = 26;
export const ids = [26];
export const modules = {

/***/ 9026:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   authenticateGcp: () => (/* binding */ authenticateGcp)
/* harmony export */ });
/* unused harmony exports GCP_INPUTS, DEFAULT_UNIVERSE, gcpEndpoints, gcpEndpointsFromEnv, parseWorkloadIdentityProvider */
/* harmony import */ var google_auth_library__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(492);
/* harmony import */ var google_auth_library__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(google_auth_library__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3916);
/* harmony import */ var _log_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(5625);
/* harmony import */ var _github_oidc_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(5326);
/* harmony import */ var _secrets_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(6924);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(6425);






const GCP_INPUTS = {
    provider: 'gcp-workload-identity-provider',
    serviceAccount: 'gcp-service-account',
    universe: 'gcp-universe',
    audience: 'gcp-audience',
};
const DEFAULT_UNIVERSE = 'googleapis.com';
/**
 * The endpoints of a universe (`googleapis.com`, or a sovereign cloud's domain). Overrides exist for Private
 * Service Connect endpoints (`https://sts-NAME.p.googleapis.com`) and for loopback stand-ins in tests.
 */
function gcpEndpoints(universe = DEFAULT_UNIVERSE, overrides = {}) {
    const strip = (url) => url.replace(/\/+$/, '');
    return {
        sts: strip(overrides.sts ?? `https://sts.${universe}`),
        iamCredentials: strip(overrides.iamCredentials ?? `https://iamcredentials.${universe}`),
        artifactRegistry: strip(overrides.artifactRegistry ?? `https://artifactregistry.${universe}`),
    };
}
const ENDPOINT_ENV = {
    sts: 'IMAGESPEC_GCP_ENDPOINT_STS',
    iamCredentials: 'IMAGESPEC_GCP_ENDPOINT_IAMCREDENTIALS',
    artifactRegistry: 'IMAGESPEC_GCP_ENDPOINT_ARTIFACTREGISTRY',
};
/**
 * Endpoint overrides from the environment: IMAGESPEC_GCP_ENDPOINT_STS, IMAGESPEC_GCP_ENDPOINT_IAMCREDENTIALS and
 * IMAGESPEC_GCP_ENDPOINT_ARTIFACTREGISTRY, each a base URL (`https://sts-NAME.p.googleapis.com`). For private
 * endpoints that are not `<api>.<universe>` (Private Service Connect, a proxy) and for end-to-end tests against
 * loopback stand-ins. Deliberately not inputs: `gcp-universe` covers every public and sovereign cloud.
 */
function gcpEndpointsFromEnv(env = process.env) {
    const out = {};
    for (const key of Object.keys(ENDPOINT_ENV)) {
        const value = env[ENDPOINT_ENV[key]]?.trim();
        if (value)
            out[key] = value;
    }
    return out;
}
const PROVIDER_NAME = /^projects\/(?<project>[^/]+)\/locations\/(?<location>[^/]+)\/workloadIdentityPools\/(?<pool>[^/]+)\/providers\/(?<provider>[^/]+)$/;
const POOL_NAME = /^projects\/[^/]+\/locations\/[^/]+\/workloadIdentityPools\/(?<pool>[^/]+)$/;
/**
 * Checks the provider's resource name and explains the usual mistakes (google-github-actions/auth's most common
 * support questions): a pool instead of a provider, a project ID instead of the number, a missing `projects/`.
 */
function parseWorkloadIdentityProvider(value) {
    // Accept the forms people paste from the console or from an audience: //iam.googleapis.com/projects/...
    const name = value.trim().replace(/^(?:https?:)?\/\/iam\.[^/]+\//, '');
    const m = PROVIDER_NAME.exec(name)?.groups;
    if (!m?.project || !m.location || !m.pool || !m.provider)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(GCP_INPUTS.provider, providerShapeProblem(name));
    if (!/^\d+$/.test(m.project)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(GCP_INPUTS.provider, `'${name}' names the project by ID ('${m.project}'), but workload identity providers are named by project ` +
            `NUMBER. Look it up with: gcloud projects describe ${m.project} --format='value(projectNumber)'`);
    }
    if (m.location !== 'global') {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(GCP_INPUTS.provider, `'${name}' has location '${m.location}'; workload identity pools are always in 'global'.`);
    }
    return { name, projectNumber: m.project, pool: m.pool, provider: m.provider };
}
const FULL_SHAPE = 'projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL_ID/providers/PROVIDER_ID';
function providerShapeProblem(name) {
    const pool = POOL_NAME.exec(name)?.groups?.pool;
    if (pool) {
        return (`'${name}' is a workload identity pool, not a provider: append /providers/PROVIDER_ID. List the pool's ` +
            `providers with: gcloud iam workload-identity-pools providers list --workload-identity-pool=${pool} ` +
            '--location=global');
    }
    if (!name.startsWith('projects/')) {
        return `'${name}' must be the provider's full resource name, starting with 'projects/': ${FULL_SHAPE}`;
    }
    return `'${name}' is not a workload identity provider name; expected ${FULL_SHAPE}`;
}
const SERVICE_ACCOUNT = /^[^@\s/]+@[^@\s/]+$/;
/**
 * GitHub OIDC token -> Google STS token exchange -> (optionally) service account impersonation, done by
 * google-auth-library's external-account client with the OIDC token supplied in process. Every fresh token
 * is masked before it is handed out.
 */
async function authenticateGcp(options) {
    const provider = parseWorkloadIdentityProvider(options.workloadIdentityProvider);
    const serviceAccount = validateServiceAccount(options.serviceAccount);
    const universe = options.universe?.trim() || DEFAULT_UNIVERSE;
    const fromEnv = gcpEndpointsFromEnv(options.env);
    const given = Object.fromEntries(Object.entries(options.endpoints ?? {}).filter(([, v]) => v !== undefined));
    const endpoints = gcpEndpoints(universe, { ...fromEnv, ...given });
    if (Object.keys(fromEnv).length > 0) {
        options.logger?.info(`Google API endpoints from IMAGESPEC_GCP_ENDPOINT_*: ${JSON.stringify(endpoints)}`);
    }
    const audience = options.audience ?? `//iam.${universe}/${provider.name}`;
    const mask = options.mask ?? _secrets_js__WEBPACK_IMPORTED_MODULE_3__/* .maskInLog */ .o;
    let lastSubjectToken = '';
    // The external_account configuration ExternalAccountClient.fromJSON() takes, given to the class fromJSON()
    // picks for it. fromJSON() also prints a warning about untrusted credential files into every job log; this
    // configuration is built here from validated inputs, so that warning would only confuse.
    const client = new google_auth_library__WEBPACK_IMPORTED_MODULE_0__.IdentityPoolClient({
        type: 'external_account',
        audience: `//iam.${universe}/${provider.name}`,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: `${endpoints.sts}/v1/token`,
        ...(serviceAccount
            ? {
                service_account_impersonation_url: `${endpoints.iamCredentials}/v1/projects/-/serviceAccounts/${serviceAccount}:generateAccessToken`,
                service_account_impersonation: { token_lifetime_seconds: options.lifetimeSeconds ?? 3600 },
            }
            : {}),
        universe_domain: universe,
        subject_token_supplier: {
            // Called on every refresh, so a refresh after a long build gets a fresh GitHub token too.
            getSubjectToken: async () => {
                lastSubjectToken = await (0,_github_oidc_js__WEBPACK_IMPORTED_MODULE_2__/* .getGitHubOidcToken */ .IM)(audience, {
                    purpose: `Google Cloud (${GCP_INPUTS.provider})`,
                    env: options.env,
                    getIDToken: options.getIDToken,
                    mask,
                });
                return lastSubjectToken;
            },
        },
    });
    const context = { provider, serviceAccount, audience, subjectToken: () => lastSubjectToken };
    const session = new Session(client, provider, serviceAccount, universe, endpoints, mask, context, options.logger);
    await session.refresh();
    return session;
}
function validateServiceAccount(value) {
    const sa = value?.trim();
    if (!sa)
        return undefined;
    if (!SERVICE_ACCOUNT.test(sa)) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(GCP_INPUTS.serviceAccount, `'${sa}' is not a service account email; use NAME@PROJECT_ID.iam.gserviceaccount.com.`);
    }
    return sa;
}
class Session {
    client;
    provider;
    serviceAccount;
    universe;
    endpoints;
    mask;
    context;
    logger;
    token = '';
    expiry;
    constructor(client, provider, serviceAccount, universe, endpoints, mask, context, logger = new _log_js__WEBPACK_IMPORTED_MODULE_4__/* .NullLogger */ .Q5()) {
        this.client = client;
        this.provider = provider;
        this.serviceAccount = serviceAccount;
        this.universe = universe;
        this.endpoints = endpoints;
        this.mask = mask;
        this.context = context;
        this.logger = logger;
    }
    accessToken() {
        return this.token;
    }
    expiresAt() {
        return this.expiry;
    }
    dockerCredentials(registryHost) {
        return {
            registry: registryHost,
            username: 'oauth2accesstoken',
            password: this.token,
            expiresAt: this.expiry,
        };
    }
    async refreshIfExpiring(minRemainingSeconds) {
        if (this.expiry && this.expiry.getTime() - Date.now() > minRemainingSeconds * 1000)
            return false;
        await this.refresh(minRemainingSeconds);
        return true;
    }
    /** Fetches a token; `minRemainingSeconds` makes the library treat a token that expires sooner as expired. */
    async refresh(minRemainingSeconds = 0) {
        // Raised only for this call: left high, every later client.request() would mint a new token.
        const usual = this.client.eagerRefreshThresholdMillis;
        this.client.eagerRefreshThresholdMillis = Math.max(minRemainingSeconds * 1000, 1);
        let token;
        try {
            token = (await this.client.getAccessToken()).token;
        }
        catch (error) {
            throw exchangeError(error, this.context);
        }
        finally {
            this.client.eagerRefreshThresholdMillis = usual;
        }
        if (!token)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ('Google returned no access token for the workload identity federation.');
        this.mask(token);
        this.token = token;
        const expiry = this.client.credentials.expiry_date;
        this.expiry = typeof expiry === 'number' ? new Date(expiry) : undefined;
        this.logger.info(`Google access token obtained${this.serviceAccount ? ` for ${this.serviceAccount}` : ' (direct workload identity federation)'}` +
            `${this.expiry ? `, valid until ${this.expiry.toISOString()}` : ''}`);
    }
}
/** Turns token exchange / impersonation failures into messages that say what to fix. */
function exchangeError(error, c) {
    if (error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ)
        return error;
    const info = (0,_errors_js__WEBPACK_IMPORTED_MODULE_5__/* .googleErrorInfo */ .E)(error);
    const reason = info.message;
    const stage = info.url?.includes(':generateAccessToken') ? 'impersonation' : 'exchange';
    if (stage === 'impersonation')
        return impersonationError(info.status, reason, c);
    const claims = (0,_github_oidc_js__WEBPACK_IMPORTED_MODULE_2__/* .decodeJwtClaims */ .dG)(c.subjectToken()) ?? {};
    const seen = ['repository', 'ref', 'sub']
        .filter((k) => typeof claims[k] === 'string')
        .map((k) => `${k}=${String(claims[k])}`)
        .join(', ');
    const token = seen ? ` GitHub's token had ${seen}.` : '';
    if (/invalid_target/.test(reason)) {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(GCP_INPUTS.provider, `Google STS does not know the provider '${c.provider.name}' (${reason}). Check the project number, pool and ` +
            'provider IDs, and that neither the pool nor the provider is disabled or deleted.');
    }
    if (/attribute condition/i.test(reason)) {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(GCP_INPUTS.provider, `The provider's attribute condition rejected this workflow (${reason}).${token} Widen the condition ` +
            "(e.g. assertion.repository_owner == 'OWNER') or run from an allowed repository or branch.");
    }
    if (/audience/i.test(reason)) {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(GCP_INPUTS.audience, `Google STS rejected the token audience '${c.audience}' (${reason}). Either leave '${GCP_INPUTS.audience}' ` +
            "unset and the provider's allowed audiences empty, or set it to one of the provider's allowed audiences.");
    }
    return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`Google STS refused the GitHub OIDC token for '${c.provider.name}' (${reason}).${token} Check the provider's ` +
        'issuer (https://token.actions.githubusercontent.com), attribute mapping and condition.');
}
function impersonationError(status, reason, c) {
    const sa = c.serviceAccount ?? '';
    const principal = `principalSet://iam.googleapis.com/projects/${c.provider.projectNumber}/locations/global/workloadIdentityPools/${c.provider.pool}/attribute.repository/OWNER/REPO`;
    if (status === 403 || status === 404) {
        return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .InputError */ .dz(GCP_INPUTS.serviceAccount, `Could not impersonate '${sa}' (${reason}). The service account must exist, the IAM Service Account ` +
            `Credentials API must be enabled, and the pool's identities need roles/iam.workloadIdentityUser on it: ` +
            `gcloud iam service-accounts add-iam-policy-binding ${sa} --role=roles/iam.workloadIdentityUser ` +
            `--member='${principal}'. New bindings can take 5 minutes to apply.`);
    }
    return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`Could not impersonate '${sa}' (${reason}).`);
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


/***/ })

};
