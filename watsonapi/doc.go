// Package watsonapi is a small client for the one Watson Assistant API call
// assistant-otel needs: listing an assistant's conversation logs
// (GET /v2/assistants/{assistant_id}/logs), with IBM Cloud IAM
// authentication.
//
// # The API, as documented
//
// Facts this package relies on, with their sources:
//
//   - Path and parameters: GET {service_url}/v2/assistants/{assistant_id}/logs
//     with the query parameters version (API version date, YYYY-MM-DD), sort
//     ("request_timestamp"; prefix "-" to reverse), filter, page_limit and
//     cursor. [Node SDK ibm-watson assistant/v2.ts listLogs, the generated
//     client of the OpenAPI definition; watson-developer-cloud/node-sdk]
//   - For watsonx Assistant (the "new experience") the path parameter is the
//     environment id for message, session and log requests; classic
//     instances use the assistant id. [same listLogs doc comment:
//     "For message, session, and log requests, specify the environment ID of
//     the environment where the assistant is deployed ... If you are using
//     the classic Watson Assistant experience, always use the assistant ID"]
//   - "This method requires Manager access." and: "If you use the cursor
//     parameter to retrieve results one page at a time, subsequent requests
//     must be no more than 5 minutes apart. Any returned value for the cursor
//     parameter becomes invalid after 5 minutes." Also: "If the API is not
//     returning your data, try lowering the page_limit value." [same]
//   - Response: LogCollection {logs: Log[], pagination: LogPagination}, with
//     LogPagination {next_url: "The URL that will return the next page of
//     results, if any", matched: "Reserved for future use", next_cursor: "A
//     token identifying the next page of results"}. [SDK typings of
//     LogPagination; the v1 SDKs only have next_url and matched]. matched is
//     therefore optional: progress falls back to a plain count without it.
//   - Filter syntax: "," is Boolean and, "|" is Boolean or, "[...]" groups,
//     comparison operators <, <=, >, >= work on timestamps, e.g.
//     "response_timestamp>=2020-07-01,response_timestamp<2020-08-01" and
//     "response_timestamp<2019-11-01T04:00:00.000Z"; request_timestamp is a
//     filterable field; special characters must be URL-encoded.
//     [ibm-cloud-docs/watson-assistant filter-reference.md, "Filter query
//     reference", https://cloud.ibm.com/docs/watson-assistant?topic=watson-assistant-filter-reference]
//   - Version date: the SDKs require one and IBM's current API reference
//     examples use 2024-08-25 (e.g. AssistantV2(version='2024-08-25') in the
//     Python and Node samples); DefaultVersion is that date.
//   - IAM: POST https://iam.cloud.ibm.com/identity/token with
//     Content-Type application/x-www-form-urlencoded and the form
//     grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=KEY; the JSON
//     answer has access_token, refresh_token, token_type, expires_in (seconds)
//     and expiration (Unix seconds). "An access token is a temporary
//     credential that expires after at most 1 hour"; "use the response
//     property expires_in ... to identify the length of time that your
//     specific access token is valid". [IBM Cloud docs, "Generating an IBM
//     Cloud IAM token by using an API key",
//     https://cloud.ibm.com/docs/iam?topic=iam-iamtoken_from_apikey; field
//     names as in IBM/go-sdk-core core/iam_authenticator.go
//     IamTokenServerResponse]
//   - Refresh policy: IBM's own SDK core refreshes once 80% of the token's
//     lifetime has passed ("expiration time - 20% of timeToLive") and treats a
//     token as expired 10 s before its expiration. [IBM/go-sdk-core
//     core/iam_authenticator.go newIamTokenData, isTokenValid]. This package
//     does the same, synchronously.
//
// Not documented, and therefore handled defensively: the maximum page_limit,
// the answer to an expired cursor (assumed to be a 4xx other than 401, 403
// and 429), and whether 429 answers carry Retry-After (honoured when present,
// seconds or an HTTP date; exponential backoff otherwise).
//
// # Errors and secrets
//
// Errors never contain the API key, a token or response bodies (which hold
// conversation text): a malformed page is reported as ErrMalformed with the
// byte offset only, and an API error carries the status code and, when the
// body is the service's JSON error object, its short "error" message.
//
// Imports: it may import watson (the log entries it returns) and
// internal/retry, and nothing else of this module.
package watsonapi
