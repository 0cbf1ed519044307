{{/*
Names and labels shared by every template. Object names are <fullname>-<component>,
truncated to 63 characters (the DNS label limit of Service names).
*/}}

{{- define "shardcast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* release-chart, or the release name alone when it already contains the chart name. */}}
{{- define "shardcast.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 49 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 49 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 49 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "shardcast.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "shardcast.labels" -}}
helm.sh/chart: {{ include "shardcast.chart" . }}
{{ include "shardcast.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shardcast
{{- end }}

{{- define "shardcast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shardcast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Per-component labels: call with (dict "ctx" $ "component" "controller"). */}}
{{- define "shardcast.componentLabels" -}}
{{ include "shardcast.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "shardcast.componentSelectorLabels" -}}
{{ include "shardcast.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "shardcast.controller.fullname" -}}
{{- printf "%s-controller" (include "shardcast.fullname" .) }}
{{- end }}

{{- define "shardcast.agent.fullname" -}}
{{- printf "%s-agent" (include "shardcast.fullname" .) }}
{{- end }}

{{- define "shardcast.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- default (include "shardcast.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "shardcast.agent.serviceAccountName" -}}
{{- if .Values.agent.serviceAccount.create }}
{{- default (include "shardcast.agent.fullname" .) .Values.agent.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.agent.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* image reference: call with (dict "image" .Values.controller.image "ctx" $). */}}
{{- define "shardcast.image" -}}
{{- $tag := default .ctx.Chart.AppVersion .image.tag }}
{{- if hasPrefix "@" $tag }}
{{- printf "%s%s" .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/* The controller API inside the cluster, as agents and NOTES.txt use it. */}}
{{- define "shardcast.controller.url" -}}
{{- printf "http://%s.%s.svc:%d" (include "shardcast.controller.fullname" .) .Release.Namespace (int .Values.controller.port) }}
{{- end }}

{{/* The pod IP as a URL/host:port host: $(POD_IP), bracketed for IPv6. */}}
{{- define "shardcast.podIPHost" -}}
{{- if eq .Values.ipFamily "IPv6" }}[$(POD_IP)]{{ else }}$(POD_IP){{ end }}
{{- end }}

{{- define "shardcast.listenHost" -}}
{{- if eq .Values.ipFamily "IPv6" }}[::]{{ else }}0.0.0.0{{ end }}
{{- end }}

{{/* Secret names and keys of the two tokens. */}}
{{- define "shardcast.tokenSecretName" -}}
{{- printf "%s-tokens" (include "shardcast.fullname" .) }}
{{- end }}

{{- define "shardcast.apiTokenSecret" -}}
{{- default (include "shardcast.tokenSecretName" .) .Values.auth.apiToken.existingSecret }}
{{- end }}

{{- define "shardcast.apiTokenKey" -}}
{{- if .Values.auth.apiToken.existingSecret }}{{ .Values.auth.apiToken.existingSecretKey }}{{ else }}api-token{{ end }}
{{- end }}

{{- define "shardcast.clusterTokenSecret" -}}
{{- default (include "shardcast.tokenSecretName" .) .Values.auth.clusterToken.existingSecret }}
{{- end }}

{{- define "shardcast.clusterTokenKey" -}}
{{- if .Values.auth.clusterToken.existingSecret }}{{ .Values.auth.clusterToken.existingSecretKey }}{{ else }}cluster-token{{ end }}
{{- end }}

{{/* True when the chart creates the token Secret (some token is enabled without existingSecret). */}}
{{- define "shardcast.createTokenSecret" -}}
{{- $api := and .Values.auth.apiToken.enabled (not .Values.auth.apiToken.existingSecret) }}
{{- $cluster := and .Values.auth.clusterToken.enabled (not .Values.auth.clusterToken.existingSecret) }}
{{- if or $api $cluster }}true{{ end }}
{{- end }}

{{/* Paths where the token files are mounted. */}}
{{- define "shardcast.apiTokenDir" -}}/etc/shardcast/api-token{{- end }}
{{- define "shardcast.clusterTokenDir" -}}/etc/shardcast/cluster-token{{- end }}

{{/* Name of the Secret of origin credentials entry `cred` (index `i`). */}}
{{- define "shardcast.credentialSecret" -}}
{{- if .cred.existingSecret }}{{ .cred.existingSecret }}{{ else }}{{ printf "%s-cred-%d" (include "shardcast.fullname" .ctx) .i }}{{ end }}
{{- end }}

{{/* Volumes of the origin credentials and tokens; call with (dict "ctx" $ "api" bool "cluster" bool). */}}
{{- define "shardcast.secretVolumes" -}}
{{- $ctx := .ctx }}
{{- if and .api $ctx.Values.auth.apiToken.enabled }}
- name: api-token
  secret:
    secretName: {{ include "shardcast.apiTokenSecret" $ctx }}
    defaultMode: 288  # 0440: readable by the pod's fsGroup (the controller runs as 65532)
    items:
      - key: {{ include "shardcast.apiTokenKey" $ctx }}
        path: token
{{- end }}
{{- if and .cluster $ctx.Values.auth.clusterToken.enabled }}
- name: cluster-token
  secret:
    secretName: {{ include "shardcast.clusterTokenSecret" $ctx }}
    defaultMode: 288  # 0440: readable by the pod's fsGroup (the controller runs as 65532)
    items:
      - key: {{ include "shardcast.clusterTokenKey" $ctx }}
        path: token
{{- end }}
{{- range $i, $cred := $ctx.Values.originCredentials }}
- name: {{ printf "cred-%d" $i }}
  secret:
    secretName: {{ include "shardcast.credentialSecret" (dict "cred" $cred "i" $i "ctx" $ctx) }}
    defaultMode: 288  # 0440: readable by the pod's fsGroup (the controller runs as 65532)
{{- end }}
{{- end }}

{{- define "shardcast.secretVolumeMounts" -}}
{{- $ctx := .ctx }}
{{- if and .api $ctx.Values.auth.apiToken.enabled }}
- name: api-token
  mountPath: {{ include "shardcast.apiTokenDir" $ctx }}
  readOnly: true
{{- end }}
{{- if and .cluster $ctx.Values.auth.clusterToken.enabled }}
- name: cluster-token
  mountPath: {{ include "shardcast.clusterTokenDir" $ctx }}
  readOnly: true
{{- end }}
{{- range $i, $cred := $ctx.Values.originCredentials }}
- name: {{ printf "cred-%d" $i }}
  mountPath: {{ printf "%s/%s" (trimSuffix "/" $ctx.Values.credentialsDir) $cred.name }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
Cross-field rules the schema cannot state readably. Each failure is one line that names
the values to change.
*/}}
{{- define "shardcast.validate" -}}
{{- $c := .Values.controller }}
{{- if and (gt (int $c.replicas) 1) (ne $c.stateStore "etcd") }}
{{- fail (printf "controller.replicas=%d needs controller.stateStore=etcd with controller.etcd.endpoints (the %s store serves one replica)" (int $c.replicas) $c.stateStore) }}
{{- end }}
{{- if and (eq $c.stateStore "etcd") (empty $c.etcd.endpoints) }}
{{- fail "controller.stateStore=etcd needs controller.etcd.endpoints (e.g. [http://etcd-0.etcd:2379])" }}
{{- end }}
{{- if and $c.etcd.endpoints (ne $c.stateStore "etcd") }}
{{- fail (printf "controller.etcd.endpoints is set but controller.stateStore=%s; set controller.stateStore=etcd" $c.stateStore) }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.agentProxy.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.agentProxy.enabled: the agent serves metrics only on its unix socket" }}
{{- end }}
{{- range $k, $t := .Values.auth }}
{{- if and $t.value $t.existingSecret }}
{{- fail (printf "auth.%s: set value or existingSecret, not both" $k) }}
{{- end }}
{{- end }}
{{- $names := dict }}
{{- range .Values.originCredentials }}
{{- if hasKey $names .name }}
{{- fail (printf "originCredentials: the name %q appears twice" .name) }}
{{- end }}
{{- $_ := set $names .name true }}
{{- end }}
{{- if and (eq (int .Values.agent.port) (int .Values.metrics.agentProxy.port)) .Values.metrics.agentProxy.enabled }}
{{- fail "metrics.agentProxy.port must differ from agent.port" }}
{{- end }}
{{- end }}
