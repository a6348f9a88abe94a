//! Ecs against the fake account.

use super::{Account, FakeAws, FakeCluster, invalid, not_found};
use crate::aws::READ_ONLY_TASK_FIELDS;
use crate::aws::{AwsResult, AwsVpc, Cluster, Ecs, Service, Task, TaskDefinition};
use serde_json::{Map, Value, json};

/// The cluster named by name or ARN, with its ARN.
fn cluster<'a>(
    a: &'a Account,
    id: &str,
    api: &'static str,
) -> AwsResult<(&'a FakeCluster, String)> {
    a.clusters
        .iter()
        .map(|c| (c, a.arn("ecs", &format!("cluster/{}", c.name))))
        .find(|(c, arn)| c.name == id || arn == id)
        .ok_or_else(|| not_found(api, "ClusterNotFoundException: Cluster not found."))
}

fn cluster_arn(a: &Account, id: &str, api: &'static str) -> AwsResult<String> {
    cluster(a, id, api).map(|(_, arn)| arn)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// The index of service `id` (name or ARN) of the cluster.
fn service_index(a: &Account, cluster: &str, id: &str) -> Option<usize> {
    a.services.iter().position(|s| {
        str_of(s, "clusterArn") == cluster
            && (str_of(s, "serviceArn") == id || str_of(s, "serviceName") == id)
    })
}

/// The typed fields, from the service JSON (as the SDK reads them from the response).
fn typed(json: &Value) -> Service {
    let vpc = &json["networkConfiguration"]["awsvpcConfiguration"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let primary = json["deployments"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["status"] == "PRIMARY"));
    Service {
        arn: str_of(json, "serviceArn").into(),
        name: str_of(json, "serviceName").into(),
        cluster_arn: str_of(json, "clusterArn").into(),
        task_definition: str_of(json, "taskDefinition").into(),
        desired_count: json["desiredCount"].as_i64().unwrap_or(0) as i32,
        json: json.clone(),
        network: vpc.is_object().then(|| AwsVpc {
            subnets: strings(&vpc["subnets"]),
            security_groups: strings(&vpc["securityGroups"]),
            assign_public_ip: vpc["assignPublicIp"] == "ENABLED",
        }),
        primary_deployment_at: primary
            .and_then(|d| d["createdAt"].as_f64())
            .map(|t| t as i64),
    }
}

/// The ARN of a task definition named by ARN, `family:revision` or `family` (the latest
/// `ACTIVE` revision), as ECS resolves it.
fn resolve_td(a: &Account, id: &str) -> Option<String> {
    if a.task_definitions.contains_key(id) {
        return Some(id.to_string());
    }
    let short = id.rsplit('/').next().unwrap_or(id);
    if short.contains(':') {
        let arn = a.arn("ecs", &format!("task-definition/{short}"));
        return a.task_definitions.contains_key(&arn).then_some(arn);
    }
    a.task_definitions
        .iter()
        .filter(|(_, d)| d["taskDefinition"]["family"] == short)
        .filter(|(_, d)| d["taskDefinition"]["status"] == "ACTIVE")
        .max_by_key(|(_, d)| d["taskDefinition"]["revision"].as_i64())
        .map(|(arn, _)| arn.clone())
}

/// Fargate task sizes (CPU units, then the memory values in MiB each allows), from the ECS
/// documentation's task size table.
fn fargate_memory_ok(cpu: u64, memory: u64) -> bool {
    let range =
        |lo: u64, hi: u64, step: u64| (lo..=hi).contains(&memory) && memory.is_multiple_of(step);
    match cpu {
        256 => [512, 1024, 2048].contains(&memory),
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122880, 8192),
        _ => false,
    }
}

fn number(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// What `RegisterTaskDefinition` rejects (the checks that matter for what fargate-rtm registers).
fn validate(input: &Value, api: &'static str) -> AwsResult<()> {
    let bad = |m: &str| Err(invalid(api, format!("ClientException: {m}")));
    if input["family"].as_str().is_none_or(str::is_empty) {
        return bad("Family is required.");
    }
    let Some(containers) = input["containerDefinitions"]
        .as_array()
        .filter(|c| !c.is_empty())
    else {
        return bad("Container list cannot be empty.");
    };
    let memory = number(&input["memory"]);
    let reserved: u64 = containers
        .iter()
        .map(|c| {
            number(&c["memoryReservation"])
                .or(number(&c["memory"]))
                .unwrap_or(0)
        })
        .sum();
    if memory.is_some_and(|m| reserved > m) {
        return bad("The total memory reserved by the containers is more than the task memory.");
    }
    let fargate = input["requiresCompatibilities"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c == "FARGATE"));
    if !fargate {
        return Ok(());
    }
    if input["networkMode"] != "awsvpc" {
        return bad("Fargate only supports network mode 'awsvpc'.");
    }
    match (number(&input["cpu"]), memory) {
        (Some(c), Some(m)) if fargate_memory_ok(c, m) => Ok(()),
        (Some(c), Some(m)) => bad(&format!(
            "No Fargate configuration exists for given values: {c} CPU, {m} memory."
        )),
        _ => bad("Fargate requires that 'cpu' and 'memory' be defined at the task level."),
    }
}

impl Ecs for FakeAws {
    async fn list_clusters(&self) -> AwsResult<Vec<String>> {
        self.read(&["ecs:ListClusters"], |a| {
            Ok(a.clusters
                .iter()
                .map(|c| a.arn("ecs", &format!("cluster/{}", c.name)))
                .collect())
        })
    }

    async fn describe_clusters(&self, clusters: &[String]) -> AwsResult<Vec<Cluster>> {
        let api = "ecs:DescribeClusters";
        self.read(&[api], |a| {
            if clusters.len() > 100 {
                return Err(invalid(
                    api,
                    "InvalidParameterException: at most 100 clusters",
                ));
            }
            // Clusters that do not exist are `failures`, not an error.
            Ok(clusters
                .iter()
                .filter_map(|id| {
                    let (c, arn) = cluster(a, id, api).ok()?;
                    Some(Cluster {
                        arn,
                        name: c.name.clone(),
                        tags: c.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    })
                })
                .collect())
        })
    }

    async fn list_services(&self, cluster: &str) -> AwsResult<Vec<String>> {
        let api = "ecs:ListServices";
        self.read(&[api], |a| {
            let arn = cluster_arn(a, cluster, api)?;
            Ok(a.services
                .iter()
                .filter(|s| str_of(s, "clusterArn") == arn)
                .filter(|s| s.get("status").is_none_or(|st| st == "ACTIVE"))
                .map(|s| str_of(s, "serviceArn").to_string())
                .collect())
        })
    }

    async fn describe_services(
        &self,
        cluster: &str,
        services: &[String],
    ) -> AwsResult<Vec<Service>> {
        let api = "ecs:DescribeServices";
        self.read(&[api], |a| {
            if services.len() > 10 {
                return Err(invalid(
                    api,
                    "InvalidParameterException: at most 10 services",
                ));
            }
            let arn = cluster_arn(a, cluster, api)?;
            Ok(services
                .iter()
                .filter_map(|id| service_index(a, &arn, id))
                .map(|i| typed(&a.services[i]))
                .collect())
        })
    }

    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition> {
        let api = "ecs:DescribeTaskDefinition";
        self.read(&[api], |a| {
            let key = resolve_td(a, arn).ok_or_else(|| {
                not_found(api, "ClientException: Unable to describe task definition.")
            })?;
            Ok(TaskDefinition {
                document: a.task_definitions[&key].clone(),
                arn: key,
            })
        })
    }

    async fn list_running_tasks(&self, cluster: &str, service: &str) -> AwsResult<Vec<String>> {
        let api = "ecs:ListTasks";
        self.read(&[api], |a| {
            let arn = cluster_arn(a, cluster, api)?;
            let i = service_index(a, &arn, service)
                .ok_or_else(|| not_found(api, "ServiceNotFoundException: Service not found."))?;
            let tasks = a.tasks.get(str_of(&a.services[i], "serviceArn"));
            Ok(tasks
                .map(|t| t.iter().map(|t| t.arn.clone()).collect())
                .unwrap_or_default())
        })
    }

    async fn describe_tasks(&self, cluster: &str, tasks: &[String]) -> AwsResult<Vec<Task>> {
        let api = "ecs:DescribeTasks";
        self.read(&[api], |a| {
            if tasks.len() > 100 {
                return Err(invalid(api, "InvalidParameterException: at most 100 tasks"));
            }
            let arn = cluster_arn(a, cluster, api)?;
            let of_cluster: Vec<&Task> = a
                .services
                .iter()
                .filter(|s| str_of(s, "clusterArn") == arn)
                .filter_map(|s| a.tasks.get(str_of(s, "serviceArn")))
                .flatten()
                .collect();
            Ok(tasks
                .iter()
                .filter_map(|id| of_cluster.iter().find(|t| &t.arn == id))
                .map(|t| (*t).clone())
                .collect())
        })
    }

    async fn register_task_definition(&self, input: &Value) -> AwsResult<String> {
        let api = "ecs:RegisterTaskDefinition";
        let family = input["family"].as_str().unwrap_or_default().to_string();
        self.change(
            api,
            family.clone(),
            |s| {
                validate(input, api)?;
                let a = &mut s.account;
                let revision = a
                    .task_definitions
                    .values()
                    .filter(|d| d["taskDefinition"]["family"] == family.as_str())
                    .filter_map(|d| d["taskDefinition"]["revision"].as_i64())
                    .max()
                    .unwrap_or(0)
                    + 1;
                let arn = a.arn("ecs", &format!("task-definition/{family}:{revision}"));
                let mut td = Map::new();
                td.insert("taskDefinitionArn".into(), arn.clone().into());
                for (k, v) in input.as_object().into_iter().flatten() {
                    if k != "tags" && !READ_ONLY_TASK_FIELDS.contains(&k.as_str()) {
                        td.insert(k.clone(), v.clone());
                    }
                }
                let awsvpc = input["networkMode"] == "awsvpc";
                let mut requires =
                    vec![json!({"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"})];
                if awsvpc {
                    requires.push(json!({"name": "ecs.capability.task-eni"}));
                }
                if input.get("executionRoleArn").is_some() {
                    requires.push(json!({"name": "ecs.capability.execution-role-ecr-pull"}));
                }
                td.insert("revision".into(), revision.into());
                td.insert("status".into(), "ACTIVE".into());
                td.insert("requiresAttributes".into(), requires.into());
                let compatibilities = if awsvpc {
                    json!(["EC2", "FARGATE"])
                } else {
                    json!(["EC2"])
                };
                td.insert("compatibilities".into(), compatibilities);
                td.insert("registeredAt".into(), a.now.into());
                td.insert("registeredBy".into(), a.identity.arn.clone().into());
                let tags = input.get("tags").cloned().unwrap_or_else(|| json!([]));
                a.task_definitions
                    .insert(arn.clone(), json!({"taskDefinition": td, "tags": tags}));
                Ok(arn)
            },
            |arn| Some(arn.clone()),
        )
    }

    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        let api = "ecs:DeregisterTaskDefinition";
        self.apply(api, arn.to_string(), |a| {
            let short = arn.rsplit('/').next().unwrap_or(arn);
            if !short.contains(':') {
                return Err(invalid(
                    api,
                    "ClientException: A revision must be specified.",
                ));
            }
            let key = resolve_td(a, arn).ok_or_else(|| {
                not_found(
                    api,
                    "ClientException: The specified task definition does not exist.",
                )
            })?;
            let now = a.now;
            if let Some(td) = a.task_definitions.get_mut(&key) {
                td["taskDefinition"]["status"] = "INACTIVE".into();
                td["taskDefinition"]["deregisteredAt"] = now.into();
            }
            Ok(())
        })
    }

    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: Option<&str>,
        platform_version: Option<&str>,
        force: bool,
    ) -> AwsResult<()> {
        let api = "ecs:UpdateService";
        let mut line = format!("{cluster} {service}");
        if let Some(td) = task_definition {
            line.push_str(&format!(" taskDefinition={td}"));
        }
        if let Some(pv) = platform_version {
            line.push_str(&format!(" platformVersion={pv}"));
        }
        if force {
            line.push_str(" forceNewDeployment");
        }
        self.apply(api, line, |a| {
            let arn = cluster_arn(a, cluster, api)?;
            let i = service_index(a, &arn, service)
                .ok_or_else(|| not_found(api, "ServiceNotFoundException: Service not found."))?;
            if a.services[i].get("status").is_some_and(|s| s != "ACTIVE") {
                return Err(invalid(
                    api,
                    "ServiceNotActiveException: Service was not ACTIVE.",
                ));
            }
            let td = match task_definition {
                None => None,
                Some(id) => {
                    let key = resolve_td(a, id).ok_or_else(|| {
                        not_found(api, "ClientException: TaskDefinition not found.")
                    })?;
                    if a.task_definitions[&key]["taskDefinition"]["status"] != "ACTIVE" {
                        return Err(invalid(api, "ClientException: TaskDefinition is inactive."));
                    }
                    Some(key)
                }
            };
            let svc = &mut a.services[i];
            if let Some(td) = td {
                svc["taskDefinition"] = td.into();
            }
            if let Some(pv) = platform_version {
                svc["platformVersion"] = pv.into();
            }
            Ok(())
        })
    }
}
