{{/* Chart name, truncated to 63 characters (a DNS label). */}}
{{- define "assistant-otel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, or the release name when it already contains the chart name. */}}
{{- define "assistant-otel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "assistant-otel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object but the component. */}}
{{- define "assistant-otel.commonLabels" -}}
helm.sh/chart: {{ include "assistant-otel.chart" . }}
app.kubernetes.io/name: {{ include "assistant-otel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of the webhook's objects. */}}
{{- define "assistant-otel.labels" -}}
{{ include "assistant-otel.commonLabels" . }}
app.kubernetes.io/component: webhook
{{- end }}

{{/* Selects the webhook pods of the StatefulSet (not the backfill job's). */}}
{{- define "assistant-otel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "assistant-otel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{- define "assistant-otel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "assistant-otel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "assistant-otel.secretName" -}}
{{- default (include "assistant-otel.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The image, pinned: by digest, or by a tag that is neither empty nor "latest". */}}
{{- define "assistant-otel.image" -}}
{{- $img := .Values.image }}
{{- if $img.digest }}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" $img.digest) }}
{{- fail (printf "image.digest %q is not sha256:<64 hex digits>" $img.digest) }}
{{- end }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- $tag := toString (default .Chart.AppVersion $img.tag) }}
{{- if or (eq $tag "") (eq $tag "latest") }}
{{- fail "image: pin the image with image.tag (not latest) or image.digest" }}
{{- end }}
{{- printf "%s:%s" $img.repository $tag }}
{{- end }}
{{- end }}

{{/*
Bytes of a Kubernetes memory quantity: a plain integer, or with a binary (Ki, Mi, Gi, Ti) or decimal
(k, M, G, T) suffix. Returns a string; anything else fails.
*/}}
{{- define "assistant-otel.bytes" -}}
{{- $q := toString . }}
{{- $m := regexFindAll "^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$" $q 1 }}
{{- if not $m }}
{{- fail (printf "cannot read the memory quantity %q (use an integer with Ki, Mi, Gi, Ti, k, M, G or T)" $q) }}
{{- end }}
{{- $num := regexFind "^[0-9]+" $q | int64 }}
{{- $suffix := trimPrefix (toString $num) $q }}
{{- $mult := dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 }}
{{- mul $num (get $mult $suffix) }}
{{- end }}

{{/* Seconds (rounded up) of a Go duration such as 15s, 1m30s, 500ms or 2h. Anything else fails. */}}
{{- define "assistant-otel.seconds" -}}
{{- $d := toString . }}
{{- if not (regexMatch "^([0-9]+(ms|h|m|s))+$" $d) }}
{{- fail (printf "cannot read the duration %q (use Go's form, e.g. 15s or 1m30s)" $d) }}
{{- end }}
{{- $ms := 0 }}
{{- range regexFindAll "[0-9]+(ms|h|m|s)" $d -1 }}
{{- $n := regexFind "^[0-9]+" . | int64 }}
{{- $u := trimPrefix (toString $n) . }}
{{- $ms = add $ms (mul $n (get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $u)) }}
{{- end }}
{{- div (add $ms 999) 1000 }}
{{- end }}

{{/* Checks that run at every render: the chart refuses a configuration that would lose events or leak. */}}
{{- define "assistant-otel.validate" -}}
{{- $limit := include "assistant-otel.bytes" (required "resources.limits.memory is required: --memory-limit is set below it" .Values.resources.limits.memory) | int64 }}
{{- $goLimit := int64 .Values.config.memoryLimit }}
{{- if le $goLimit 0 }}
{{- fail "config.memoryLimit must be a positive number of bytes below resources.limits.memory" }}
{{- end }}
{{- if gt (add $goLimit 33554432) $limit }}
{{- fail (printf "config.memoryLimit (%d bytes) must stay at least 32 MiB below resources.limits.memory (%d bytes): the binary, the spool's mapped pages and stacks come on top of the Go heap" $goLimit $limit) }}
{{- end }}
{{- $drain := include "assistant-otel.seconds" .Values.config.drainTimeout | int64 }}
{{- if le (int64 .Values.terminationGracePeriodSeconds) $drain }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be longer than config.drainTimeout (%s): otherwise the kubelet kills the pod while it drains" .Values.terminationGracePeriodSeconds .Values.config.drainTimeout) }}
{{- end }}
{{- $pvc := include "assistant-otel.bytes" .Values.persistence.size | int64 }}
{{- if le $pvc (int64 .Values.config.spoolMaxBytes) }}
{{- fail (printf "persistence.size (%s) must exceed config.spoolMaxBytes (%v): the spool file does not shrink" .Values.persistence.size .Values.config.spoolMaxBytes) }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.tls) (not .Values.ingress.allowPlainHTTP) }}
{{- fail "ingress.tls is empty: Watson Assistant requires an https URL (set ingress.tls, or ingress.allowPlainHTTP if TLS ends elsewhere)" }}
{{- end }}
{{- if and .Values.serverTLS.enabled (not .Values.serverTLS.secretName) }}
{{- fail "serverTLS.enabled needs serverTLS.secretName (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- if not .Values.secret.keys }}
{{- fail "secret.keys must name at least one key of the webhook Secret" }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if and (hasKey . "value") (regexMatch "^(ASSISTANT_OTEL_(SECRET|PSEUDONYM_KEY|API_KEY|BEARER_TOKEN)|OTEL_EXPORTER_OTLP(_[A-Z]+)?_HEADERS)$" .name) }}
{{- fail (printf "extraEnv: %s must not be a plain value; use a file (secret.*, pseudonymKey.*) or valueFrom.secretKeyRef" .name) }}
{{- end }}
{{- end }}
{{- if .Values.backfill.enabled }}
{{- if not .Values.backfill.url }}{{ fail "backfill.url is required (the service URL of the Watson Assistant instance)" }}{{ end }}
{{- if eq (empty .Values.backfill.assistantId) (empty .Values.backfill.environmentId) }}{{ fail "backfill: set exactly one of assistantId and environmentId" }}{{ end }}
{{- if not .Values.backfill.apiKeySecret.name }}{{ fail "backfill.apiKeySecret.name is required (a Secret holding the IBM Cloud API key)" }}{{ end }}
{{- if not (regexMatch "^[0-9]{4}-[0-9]{2}-[0-9]{2}" (toString .Values.backfill.from)) }}
{{- fail (printf "backfill.from %q must be an absolute date or RFC 3339 time: the checkpoint belongs to one filter, so a moving start such as 7d would be refused by the next run" (toString .Values.backfill.from)) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Mount paths. */}}
{{- define "assistant-otel.secretDir" -}}/etc/assistant-otel/secret{{- end }}
{{- define "assistant-otel.spoolDir" -}}/var/lib/assistant-otel/spool{{- end }}

{{- define "assistant-otel.secretFiles" -}}
{{- $dir := include "assistant-otel.secretDir" . }}
{{- $files := list }}
{{- range .Values.secret.keys }}{{ $files = append $files (printf "%s/%s" $dir .) }}{{ end }}
{{- join "," $files }}
{{- end }}
