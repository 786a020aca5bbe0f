-- Shipped rewrite rules for gateway model names.  Each rule runs only when
-- the name is not yet a known model id or alias; see claudecost.model_pattern.
INSERT INTO claudecost.model_pattern (priority, pattern, replacement, description, shipped) VALUES
    (10, '^(?:openrouter/|litellm_proxy/)?(?:anthropic|bedrock|vertex_ai|vertex-ai)/', '',
     'provider prefix of OpenRouter and LiteLLM (anthropic/claude-sonnet-4)', true),
    (20, '^(?:(?:global|us|us-gov|eu|apac|au|jp|ca)\.)?anthropic\.(claude-.+?)(?:-v\d+)?(?::\d+)?$', '$1',
     'Amazon Bedrock ids with optional cross-region prefix (us.anthropic.claude-sonnet-4-5-20250929-v1:0)', true),
    (30, '^(claude-.+?)(?:-v\d+)?@(\d{8})$', '$1-$2',
     'Google Vertex AI ids (claude-3-5-sonnet-v2@20241022)', true),
    (40, ':(?:beta|thinking|extended)$', '',
     'OpenRouter variant suffix (anthropic/claude-3.7-sonnet:thinking)', true),
    (50, '(?<=\d)\.(?=\d)', '-',
     'dotted versions (claude-3.5-sonnet, claude-sonnet-4.5)', true);
