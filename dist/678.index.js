export const id = 678;
export const ids = [678];
export const modules = {

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

/***/ 678:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   deleteGarTag: () => (/* binding */ deleteGarTag)
/* harmony export */ });
/* unused harmony export garTagName */
/* harmony import */ var _cloud_gcp_errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(6425);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3916);


/** `projects/P/locations/L/repositories/R/packages/PKG/tags/TAG`; the package (image path) is URL-encoded. */
function garTagName(target, tag) {
    const pkg = encodeURIComponent(target.imagePath);
    return `projects/${target.project}/locations/${target.location}/repositories/${target.repository}/packages/${pkg}/tags/${encodeURIComponent(tag)}`;
}
async function deleteGarTag(session, target, tag) {
    const name = garTagName(target, tag);
    try {
        await session.client.request({
            url: `${session.endpoints.artifactRegistry}/v1/${name}`,
            method: 'DELETE',
            responseType: 'json',
        });
        return 'deleted';
    }
    catch (error) {
        const info = (0,_cloud_gcp_errors_js__WEBPACK_IMPORTED_MODULE_1__/* .googleErrorInfo */ .E)(error);
        if (info.status === 404)
            return 'gone';
        const who = session.serviceAccount ? `serviceAccount:${session.serviceAccount}` : 'the workload identity';
        if (info.status === 403) {
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Not allowed to delete the Artifact Registry tag ${name} (${info.message}). Grant ${who} artifactregistry.tags.delete (roles/artifactregistry.repoAdmin).`);
        }
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .ActionError */ .lZ(`Could not delete the Artifact Registry tag ${name} (${info.apiStatus ?? info.status ?? ''}: ${info.message}).`);
    }
}


/***/ })

};
