// One learner's journey: enrollments, jobs, ventures, studies and state history
// Everything the graph holds about one learner, in time order: each
// enrollment, job, venture and study with its dates, and every learning
// state and professional status the learner held, across snapshots.
// param learner: string  the learner's hashedEmail or sandId
MATCH (l:Learner)
WHERE (l.hashedEmail = $learner OR l.sandId = $learner) AND ($includeMissing OR l.missingSince IS NULL)
CALL (l) {
  MATCH (l)-[e:ENROLLED_IN]->(p:Program)
  RETURN 'enrollment' AS kind, p.name + ' (' + p.id + ')' AS what, e.startDate AS since,
         coalesce(e.graduationDate, e.endDate) AS until, e.enrollmentStatus AS detail
  UNION ALL
  MATCH (l)-[w:WORKS_FOR]->(c:Company)
  RETURN 'job' AS kind, c.name AS what, w.startDate AS since, w.endDate AS until,
         w.position AS detail
  UNION ALL
  MATCH (l)-[v:RUNS_VENTURE]->(c:Company)
  RETURN 'venture' AS kind, c.name AS what, v.startDate AS since, null AS until,
         null AS detail
  UNION ALL
  MATCH (l)-[s:STUDIED_AT]->(i:Institution)
  RETURN 'study' AS kind, i.name AS what, s.startDate AS since, s.endDate AS until,
         s.levelOfStudy AS detail
  UNION ALL
  MATCH (l)-[r:HAS_LEARNING_STATE]->(s:LearningState)
  RETURN 'learning state' AS kind, s.state AS what, r.validFrom AS since, r.validTo AS until,
         CASE WHEN r.isCurrent THEN 'current' ELSE null END AS detail
  UNION ALL
  MATCH (l)-[r:HAS_PROFESSIONAL_STATUS]->(s:ProfessionalStatus)
  RETURN 'professional status' AS kind, s.status AS what, r.validFrom AS since, r.validTo AS until,
         CASE WHEN r.isCurrent THEN 'current' ELSE null END AS detail
}
RETURN l.hashedEmail AS learner, kind, what, since, until, detail
ORDER BY since, kind, what
