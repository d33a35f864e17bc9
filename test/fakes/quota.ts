/**
 * The Gemini API's 429 for an exhausted quota, as Google writes it: a QuotaFailure naming the quota
 * (`quotaId`, `quotaMetric`, `quotaDimensions`, `quotaValue`), a Help link, and (added by the
 * caller) a RetryInfo. A per-day quota comes with a short retryDelay all the same, which is why
 * the quota id, not the delay, says when it resets. Shapes as in Google's rate-limit docs and the
 * 429s users post from generativelanguage.googleapis.com (free tier).
 */

export type QuotaWindow = 'requests-per-day' | 'requests-per-minute' | 'input-tokens-per-minute';

const QUOTAS: Record<QuotaWindow, { quotaId: string; quotaMetric: string; quotaValue: string }> = {
  'requests-per-day': {
    quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
    quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
    quotaValue: '50',
  },
  'requests-per-minute': {
    quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
    quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
    quotaValue: '2',
  },
  'input-tokens-per-minute': {
    quotaId: 'GenerateContentInputTokensPerModelPerMinute-FreeTier',
    quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count',
    quotaValue: '250000',
  },
};

export function quotaFailureDetails(window: QuotaWindow, model: string): Record<string, unknown>[] {
  const quota = QUOTAS[window];
  return [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [{ quotaMetric: quota.quotaMetric, quotaId: quota.quotaId, quotaDimensions: { location: 'global', model }, quotaValue: quota.quotaValue }],
    },
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
    },
  ];
}

export function quotaMessage(window: QuotaWindow, model: string, retryDelay: string | undefined): string {
  const quota = QUOTAS[window];
  return (
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, ' +
    'head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n' +
    `* Quota exceeded for metric: ${quota.quotaMetric}, limit: ${quota.quotaValue}, model: ${model}` +
    (retryDelay ? `\nPlease retry in ${retryDelay}.` : '')
  );
}
