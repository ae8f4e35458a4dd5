package helmtest

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ServiceMonitor mirrors the fields of the Prometheus Operator's monitoring.coreos.com/v1 ServiceMonitor
// that the chart uses, with the operator's JSON names. Decode checks a rendered ServiceMonitor strictly
// against the operator's published type (github.com/prometheus-operator/prometheus-operator/pkg/apis/
// monitoring/v1) and against this subset, which refuses any field the chart is not meant to set; the
// checks then read it field by field.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ServiceMonitorSpec `json:"spec"`
}

// ServiceMonitorSpec is the subset of the operator's spec the chart renders.
type ServiceMonitorSpec struct {
	Selector          metav1.LabelSelector `json:"selector"`
	NamespaceSelector NamespaceSelector    `json:"namespaceSelector"`
	Endpoints         []Endpoint           `json:"endpoints"`
	JobLabel          string               `json:"jobLabel,omitempty"`
}

// NamespaceSelector is the operator's NamespaceSelector.
type NamespaceSelector struct {
	Any        bool     `json:"any,omitempty"`
	MatchNames []string `json:"matchNames,omitempty"`
}

// Endpoint is the subset of the operator's Endpoint the chart renders.
type Endpoint struct {
	Port          string `json:"port,omitempty"`
	Path          string `json:"path,omitempty"`
	Scheme        string `json:"scheme,omitempty"`
	Interval      string `json:"interval,omitempty"`
	ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
}
