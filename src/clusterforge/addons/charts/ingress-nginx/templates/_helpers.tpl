{{/*
Shared snippets of the ingress-nginx chart. Selectors use only the labels that
never change between versions.
*/}}

{{- define "ingress-nginx.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "ingress-nginx.controllerName" -}}
{{- printf "%s-controller" (include "ingress-nginx.name" .) -}}
{{- end -}}

{{- define "ingress-nginx.version" -}}
{{- .Values.version | default .Chart.AppVersion -}}
{{- end -}}

{{- define "ingress-nginx.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ingress-nginx.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "ingress-nginx.labels" -}}
{{ include "ingress-nginx.selectorLabels" . }}
app.kubernetes.io/version: {{ include "ingress-nginx.version" . | quote }}
app.kubernetes.io/part-of: clusterforge
app.kubernetes.io/managed-by: clusterforge
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* An image reference; global.registry, when set, replaces the image's own registry. */}}
{{- define "ingress-nginx.image" -}}
{{- $registry := .root.Values.global.registry | default .image.registry | trimSuffix "/" -}}
{{- $tag := .image.tag | default (include "ingress-nginx.version" .root) -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- end -}}

{{- define "ingress-nginx.electionId" -}}
{{- printf "%s-leader" (include "ingress-nginx.name" .) -}}
{{- end -}}
