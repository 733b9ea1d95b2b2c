//! `learngraph mcp`: the graph's questions for an analyst's own assistant,
//! as a Model Context Protocol server (the official Rust SDK, `rmcp`).
//!
//! Its tools: one per question of the catalogue (`questions/*.cypher`),
//! whose input schema is built from the question's declared parameters;
//! `graph_schema` (labels, relationship types and their properties from the
//! contract, with live counts); `load_history` (what `history --json`
//! says); and `read_cypher`, a read-only statement run as
//! [`crate::sink::neo4j::readonly`] allows. Every tool reads; none writes.
//! A tool that cannot answer returns an error result that says why (the
//! assistant reads it), and the server answers the next call.

use std::sync::Arc;
use std::time::Duration;

use rmcp::ErrorData;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use serde_json::{Value as Json, json};

use crate::config::Config;
use crate::graph::model::{Label, RelType};
use crate::graph::properties::{Kind as PropertyKind, node_properties, relationship_properties};
use crate::graph::questions::{self, INCLUDE_MISSING, Kind, Question, QuestionError};
use crate::pipeline::ask::{answer, grid, table};
use crate::pipeline::history::history;
use crate::pipeline::text::grouped;
use crate::sink::neo4j::readonly::{Cut, ReadOnlyAnswer, ReadOnlyQuery};
use crate::sink::neo4j::{Neo4jSink, SinkError, cypher, params};
use crate::text::terminal_safe;

/// The contract the schema tool explains the graph by.
const GRAPH_CONTRACT: &str = include_str!("../../docs/graph.md");

/// The read-only tool's bounds.
#[derive(Clone, Copy, Debug)]
pub struct CypherLimits {
    /// Rows an answer holds at most (an assistant's context is small).
    pub rows: usize,
    /// Bytes of rows (as JSON) an answer holds at most: a few huge values
    /// are cut as many rows are.
    pub bytes: usize,
    /// How long a statement may run.
    pub deadline: Duration,
}

impl Default for CypherLimits {
    fn default() -> Self {
        CypherLimits {
            rows: 1_000,
            bytes: ANSWER_BYTES,
            deadline: Duration::from_secs(30),
        }
    }
}

/// An answer's bound in bytes: far more than an assistant reads at once,
/// far less than a value the server may hold.
const ANSWER_BYTES: usize = 4 << 20;

/// What a tool call beyond the deadline may take before it is given up.
const CALL_GRACE: Duration = Duration::from_secs(2);

/// The tool a call names.
#[derive(Clone, Copy)]
enum ToolCall {
    Schema,
    History,
    Cypher,
    Question(&'static Question),
}

impl ToolCall {
    fn named(name: &str) -> Result<ToolCall, ErrorData> {
        Ok(match name {
            SCHEMA_TOOL => ToolCall::Schema,
            HISTORY_TOOL => ToolCall::History,
            CYPHER_TOOL => ToolCall::Cypher,
            _ => ToolCall::Question(questions::find(name).map_err(|_| {
                ErrorData::invalid_params(
                    format!(
                        "no tool named {}; list the tools for their names",
                        terminal_safe(name)
                    ),
                    None,
                )
            })?),
        })
    }
}

const SCHEMA_TOOL: &str = "graph_schema";
/// The bookkeeping labels an analyst may query (docs/graph.md, "What
/// learngraph adds"); the load lock is the loader's own and left out.
const LOAD_RECORDS: [(&str, &str); 2] = [
    (
        "Snapshot",
        "one node per snapshot date: what loading it did (learnersNew, learnersChanged, learnersMissing, ...)",
    ),
    (
        "LoadRun",
        "one node per run of `load`: its file, snapshotDate, times, counts, and whether it completed",
    ),
];
const HISTORY_TOOL: &str = "load_history";
const CYPHER_TOOL: &str = "read_cypher";

/// The server: one connection pool to the graph, shared by every call.
#[derive(Clone)]
pub struct GraphTools {
    config: Arc<Config>,
    sink: Neo4jSink,
    limits: CypherLimits,
}

impl GraphTools {
    /// Connects once; a wrong address or password fails here, before any
    /// client is served.
    pub async fn connect(config: Config, limits: CypherLimits) -> Result<Self, SinkError> {
        let sink = Neo4jSink::connect(&config).await?;
        if !sink.server().is_neo4j() {
            tracing::warn!(
                server = %sink.server().agent,
                "{CYPHER_TOOL} is not offered: only Neo4j itself says what a statement would do before it runs"
            );
        }
        Ok(GraphTools {
            config: Arc::new(config),
            sink,
            limits,
        })
    }

    /// Whether free statements may run: only where the server explains a
    /// statement's kind before it runs. ArcadeDB calls every statement a
    /// write, so there the tool is not offered (and a call is refused).
    fn offers_cypher(&self) -> bool {
        self.sink.server().is_neo4j()
    }

    /// Every tool, questions first; read_cypher where the server allows it.
    pub fn tools(&self) -> Vec<Tool> {
        let mut tools: Vec<Tool> = questions::catalogue().iter().map(question_tool).collect();
        tools.push(read_only(Tool::new(
            SCHEMA_TOOL,
            "The graph's schema: every node label and relationship type, their properties (with what each \
             means, from the graph's contract) and how many of each the graph holds now.",
            object_schema(JsonObject::new(), &[]),
        )));
        tools.push(read_only(Tool::new(
            HISTORY_TOOL,
            "The graph's load history: every snapshot loaded (learners present, new, changed, missing, state \
             transitions) and every run of the loader (start, end, outcome), newest first.",
            object_schema(JsonObject::new(), &[]),
        )));
        let mut cypher_properties = JsonObject::new();
        cypher_properties.insert(
            "query".into(),
            json!({"type": "string", "description": "One read-only Cypher statement. Writes, LOAD CSV, \
                   administration commands and procedures other than the schema listings are refused."}),
        );
        cypher_properties.insert(
            "parameters".into(),
            json!({"type": "object", "description": "Values for the statement's $parameters."}),
        );
        cypher_properties.insert(
            "limit".into(),
            json!({"type": "integer", "minimum": 1, "maximum": self.limits.rows, "default": self.limits.rows,
                   "description": "Rows to return at most; the answer says when it was cut."}),
        );
        if !self.offers_cypher() {
            return tools;
        }
        tools.push(read_only(Tool::new(
            CYPHER_TOOL,
            format!(
                "Runs one read-only Cypher statement against the learner graph, for what the question tools \
                 do not cover. The server checks what the statement would do before it runs (only reads), \
                 runs it read-only and rolls it back, stops it after {} s and returns at most {} rows. Call \
                 {SCHEMA_TOOL} first for the labels and properties.",
                self.limits.deadline.as_secs(),
                self.limits.rows
            ),
            object_schema(cypher_properties, &["query"]),
        )));
        tools
    }

    async fn call(&self, name: &str, arguments: JsonObject) -> Result<CallToolResult, ErrorData> {
        let tool = ToolCall::named(name)?;
        // A database that is down or stalled fails the call within the
        // deadline rather than after the loader's retry budget; the grace
        // lets read_cypher's own deadline speak first.
        let bound = self.limits.deadline + CALL_GRACE;
        let outcome = match tokio::time::timeout(bound, self.run(tool, &arguments)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "{} did not answer within {} s (--deadline-seconds): the database is down, stalled or busy; \
                 try again, or raise --deadline-seconds for a large graph",
                terminal_safe(name),
                bound.as_secs()
            )),
        };
        Ok(match outcome {
            Ok((structured, text)) => {
                let mut result = CallToolResult::structured(structured);
                result.content = vec![ContentBlock::text(text)];
                result
            }
            Err(why) => CallToolResult::error(vec![ContentBlock::text(terminal_safe(&why).into_owned())]),
        })
    }

    async fn run(&self, tool: ToolCall, arguments: &JsonObject) -> Result<(Json, String), String> {
        match tool {
            ToolCall::Schema => self.schema().await,
            ToolCall::History => self.history().await,
            ToolCall::Cypher => self.read_cypher(arguments).await,
            ToolCall::Question(question) => self.ask(question, arguments).await,
        }
    }

    async fn ask(
        &self,
        question: &'static Question,
        arguments: &JsonObject,
    ) -> Result<(Json, String), String> {
        let mut given = Vec::new();
        let mut include_missing = false;
        for (name, value) in arguments {
            if name == INCLUDE_MISSING {
                include_missing = value
                    .as_bool()
                    .ok_or_else(|| format!("{INCLUDE_MISSING} is true or false, not {value}"))?;
                continue;
            }
            let text = match value {
                Json::String(text) => text.clone(),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                Json::Null => "null".to_string(),
                other => return Err(format!("{name} takes one value, not {other}")),
            };
            given.push(format!("{name}={text}"));
        }
        let args = question
            .bind(&given, include_missing)
            .map_err(|e| argument_error(&e))?;
        let answered = answer(&self.sink, question, args)
            .await
            .map_err(|e| e.to_string())?;
        let text = table(&answered);
        Ok((serde_json::to_value(&answered).unwrap_or_default(), text))
    }

    async fn schema(&self) -> Result<(Json, String), String> {
        let count = |statement: String| async move {
            let rows = self
                .sink
                .read(&statement, Vec::new())
                .await
                .map_err(|e| e.to_string())?;
            Ok::<i64, String>(rows.first().and_then(|r| r.int("n")).unwrap_or(0))
        };
        let mut labels = Vec::new();
        for label in Label::ALL {
            labels.push(json!({
                "label": label.name(),
                "key": label.key(),
                "properties": properties_json(node_properties(label)),
                "count": count(cypher::count_nodes(label)).await?,
            }));
        }
        let mut relationships = Vec::new();
        for rel in RelType::ALL {
            let (from, to) = rel.ends();
            relationships.push(json!({
                "type": rel.name(),
                "from": from.name(),
                "to": to.name(),
                "properties": properties_json(relationship_properties(rel)),
                "count": count(cypher::count_relationships(rel)).await?,
            }));
        }
        // The load's own records, unconnected to the data; load_history
        // reads them whole.
        let mut records = Vec::new();
        for (label, about) in LOAD_RECORDS {
            records.push(json!({
                "label": label,
                "about": about,
                "count": count(format!("MATCH (n:{label}) RETURN count(n) AS n")).await?,
            }));
        }
        let text = format!(
            "{} labels and {} relationship types, and the load's records ({}); the contract that says what each means follows.\n\n{GRAPH_CONTRACT}",
            labels.len(),
            relationships.len(),
            LOAD_RECORDS.map(|(label, _)| label).join(", "),
        );
        Ok((
            json!({"labels": labels, "relationships": relationships, "loadRecords": records, "contract": GRAPH_CONTRACT}),
            text,
        ))
    }

    async fn history(&self) -> Result<(Json, String), String> {
        let history = history(&self.config).await.map_err(|e| e.to_string())?;
        let text = history.to_text();
        Ok((serde_json::to_value(&history).unwrap_or_default(), text))
    }

    async fn read_cypher(&self, arguments: &JsonObject) -> Result<(Json, String), String> {
        if !self.offers_cypher() {
            return Err(format!(
                "{CYPHER_TOOL} runs on Neo4j itself only: {} does not say what a statement would do before it \
                 runs (EXPLAIN's query type), so no free statement runs here. The question tools, {SCHEMA_TOOL} \
                 and {HISTORY_TOOL} work",
                terminal_safe(&self.sink.server().agent)
            ));
        }
        let text = arguments
            .get("query")
            .and_then(Json::as_str)
            .ok_or("read_cypher needs `query`, one Cypher statement as text")?;
        let limit = match arguments.get("limit") {
            None | Some(Json::Null) => self.limits.rows,
            Some(value) => value
                .as_u64()
                .filter(|n| (1..=self.limits.rows as u64).contains(n))
                .ok_or_else(|| {
                    format!(
                        "the argument `limit` is a whole number from 1 to {}, not {value}",
                        self.limits.rows
                    )
                })? as usize,
        };
        let parameters = match arguments.get("parameters") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Object(map)) => map.iter().map(|(k, v)| (k.clone(), params::json(v))).collect(),
            Some(other) => {
                return Err(format!(
                    "parameters is an object of names and values, not {other}"
                ));
            }
        };
        let query = ReadOnlyQuery {
            text: text.to_string(),
            params: parameters,
            row_limit: limit,
            byte_limit: self.limits.bytes,
            deadline: self.limits.deadline,
        };
        let ReadOnlyAnswer { columns, rows, cut } =
            self.sink.read_only(&query).await.map_err(|e| e.to_string())?;
        let said = match cut {
            None => String::new(),
            Some(Cut::Rows) => format!(", cut at the limit of {} rows", grouped(limit)),
            Some(Cut::Bytes) => format!(
                ", cut at {} MiB of answer: return fewer or smaller values",
                self.limits.bytes >> 20
            ),
        };
        let text = format!("{} rows{said}\n{}\n", grouped(rows.len()), grid(&columns, &rows));
        Ok((
            json!({"columns": columns, "rows": rows, "cut": cut.is_some()}),
            text,
        ))
    }
}

impl ServerHandler for GraphTools {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("learngraph", crate::VERSION);
        info.instructions = Some(
            "Questions about a learner graph (learners, programs, skills, companies, countries and their \
             learning and professional states over time). Prefer a question tool; use graph_schema, then \
             read_cypher, for anything else. Nothing here can change the graph."
                .to_string(),
        );
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        Ok(self.call(&request.name, arguments).await?.into())
    }
}

/// A question's refusal of its arguments in the words of a tool call:
/// arguments, not `ask`'s `--param NAME=VALUE`.
fn argument_error(error: &QuestionError) -> String {
    match error {
        QuestionError::Missing { question, name, help } => {
            format!("{question} needs the argument `{name}` ({help})")
        }
        QuestionError::BadValue {
            name,
            value,
            expected,
        } => {
            format!("the argument `{name}` is not {expected}: {value:?}")
        }
        QuestionError::OutOfRange {
            question,
            name,
            value,
            minimum,
            maximum,
        } => format!(
            "the argument `{name}` = {value} is out of range: {question} takes it from {minimum} to {maximum}"
        ),
        other => other.to_string(),
    }
}

/// A question as a tool: its title and description, and a JSON Schema of
/// its declared parameters (types, bounds, defaults) and `includeMissing`.
fn question_tool(question: &Question) -> Tool {
    let mut properties = JsonObject::new();
    let mut required = Vec::new();
    for parameter in &question.parameters {
        let mut schema = json!({"description": parameter.help});
        let kind = match parameter.kind {
            Kind::Integer => "integer",
            Kind::Float => "number",
            Kind::String | Kind::Date => "string",
            Kind::Boolean => "boolean",
        };
        schema["type"] = json!(kind);
        if parameter.kind == Kind::Date {
            schema["format"] = json!("date");
        }
        if let Some(minimum) = parameter.minimum {
            schema["minimum"] = json!(minimum);
        }
        if let Some(maximum) = parameter.maximum {
            schema["maximum"] = json!(maximum);
        }
        match &parameter.default {
            None => required.push(parameter.name.as_str()),
            // Optional with no default: a single `type` keeps the schema
            // portable to clients that map it onto one-type dialects.
            Some(questions::Arg::Null) => {}
            Some(default) => schema["default"] = serde_json::to_value(default).unwrap_or_default(),
        }
        properties.insert(parameter.name.clone(), schema);
    }
    properties.insert(
        INCLUDE_MISSING.into(),
        json!({"type": "boolean", "default": false,
               "description": "Count learners a later snapshot marked missing (left out by default)."}),
    );
    let mut tool = Tool::new(
        question.name,
        format!("{}. {}", question.title, question.description),
        object_schema(properties, &required),
    );
    tool.title = Some(question.title.clone());
    read_only(tool)
}

fn object_schema(properties: JsonObject, required: &[&str]) -> Arc<JsonObject> {
    let mut schema = JsonObject::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Json::Object(properties));
    schema.insert("required".into(), json!(required));
    schema.insert("additionalProperties".into(), json!(false));
    Arc::new(schema)
}

fn read_only(mut tool: Tool) -> Tool {
    let mut annotations = ToolAnnotations::default();
    annotations.read_only_hint = Some(true);
    annotations.open_world_hint = Some(false);
    tool.annotations = Some(annotations);
    tool
}

fn properties_json(properties: &[(&str, PropertyKind)]) -> Json {
    Json::Object(
        properties
            .iter()
            .map(|(name, kind)| {
                let kind = match kind {
                    PropertyKind::Str => "string",
                    PropertyKind::Long => "integer",
                    PropertyKind::Double => "float",
                    PropertyKind::Boolean => "boolean",
                    PropertyKind::Date => "date",
                };
                ((*name).to_string(), json!(kind))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_tool_declares_its_parameters_as_the_file_does() {
        let question = questions::find("top-skills").expect("a question");
        let tool = question_tool(question);
        let schema = Json::Object((*tool.input_schema).clone());
        assert_eq!(schema["properties"]["limit"]["type"], "integer");
        assert_eq!(schema["properties"]["limit"]["minimum"], 1);
        assert_eq!(schema["properties"]["limit"]["maximum"], 1_000_000);
        assert_eq!(schema["properties"]["limit"]["default"], 20);
        assert_eq!(schema["properties"][INCLUDE_MISSING]["type"], "boolean");
        assert_eq!(schema["required"], json!([]));
        assert_eq!(tool.annotations.and_then(|a| a.read_only_hint), Some(true));
    }

    #[test]
    fn a_required_parameter_is_required() {
        let question = questions::find("learner-journey").expect("a question");
        let schema = Json::Object((*question_tool(question).input_schema).clone());
        let required = schema["required"].as_array().expect("a list");
        assert!(!required.is_empty(), "{schema}");
        for name in required {
            assert!(schema["properties"][name.as_str().expect("a name")].is_object());
        }
    }
}
