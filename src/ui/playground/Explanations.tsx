/** Short explanations of the ideas behind the controls, with the formulas (DESIGN §4, §9). */
export function Explanations() {
  return (
    <div className="pg-explain" aria-label="Explanations">
      <details open>
        <summary>Reference strategies</summary>
        <p>
          Every N updates the policy is saved as a checkpoint θ<sub>k</sub>. In iteration k the reference model that generates the
          “losing” samples x<sup>l</sup> is <b>init</b> = θ<sub>0</sub> (DITTO-like), <b>latest</b> = θ<sub>k−1</sub> (SPIN-like) or{' '}
          <b>random</b> = uniform over θ<sub>0</sub>…θ<sub>k−1</sub> (SePPO). Winners x<sup>w</sup> come from the data; x<sup>l</sup> are the
          reference model’s own samples for the same prompts (on-policy).
        </p>
      </details>
      <details open>
        <summary>AAF, the Anchor-based Adaptive Flipper</summary>
        <p>
          With m = ‖ε<sub>θ</sub>(x<sub>t</sub>,t,c) − ε‖² for the policy and r the same for the reference (same t and ε for both halves):
        </p>
        <p className="pg-formula">s = +1 if m<sub>w</sub> − r<sub>w</sub> &gt; 0, else −1</p>
        <p>
          s = +1: the reference fits the winner better than we do, so its sample is probably good — learn from both. s = −1: the
          reference sample is a loser (plain Diffusion-DPO). <b>indicator</b> uses 0 instead of +1; <b>off</b> always uses −1.
        </p>
        <p className="pg-formula">
          inside = −½·β·((m<sub>w</sub> + s·m<sub>l</sub>) − (r<sub>w</sub> + s·r<sub>l</sub>)), loss = mean(−log σ(inside))
        </p>
      </details>
      <details>
        <summary>β</summary>
        <p>
          β scales the preference term inside the sigmoid. Too small: inside ≈ 0, the loss sits at log 2 and nothing moves. Too large: |inside|
          &gt; 5 for most pairs, σ saturates and those pairs give no gradient — watch the inside histogram in Diagnostics. Our MSEs are
          smaller than SD-1.5’s, so β differs from the paper’s 2000 (try the beta-sweep preset).
        </p>
      </details>
      <details>
        <summary>AAF rate</summary>
        <p className="pg-formula">AAF rate = mean(s = −1)</p>
        <p>
          The share of reference samples judged losers. It rises as the policy overtakes its past checkpoints (the paper’s Fig. 3 plots it
          against PickScore); with AAF off it is 1 by definition.
        </p>
      </details>
      <details>
        <summary>DDPO (reward-model arm)</summary>
        <p>
          Policy gradient on the arm’s own samples (Black et al. 2024, DDPO<sub>IS</sub>): for each prompt it samples several images with
          stochastic DDIM, scores them with its <b>reward</b> model (PickScore-mini by default; HPS-mini, Alignment or Aesthetic), turns the
          scores into advantages A normalised within each prompt, and raises the log-probability of every denoising step of the better
          images, with the importance ratio ρ clipped to [1 − δ, 1 + δ]:
        </p>
        <p className="pg-formula">loss = mean max(−A·ρ, −A·clip(ρ, 1 − δ, 1 + δ))</p>
        <p>
          It never sees the data or the true preference. Watch the reward-hacking table: the training reward rising while the true
          preference falls — most plainly with Aesthetic, which ignores the prompt (the reward-hacking preset).
        </p>
      </details>
      <details>
        <summary>D3PO (reward-model arm)</summary>
        <p>
          DPO on the arm’s own samples (Yang et al. 2024): two images per prompt from the same starting noise, the preferred one chosen by
          the <b>reward</b> model (or, with preference <b>raters</b>, by the world’s simulated raters), and the DPO loss on every denoising
          step’s log-probability ratio against the reference θ<sub>0</sub>:
        </p>
        <p className="pg-formula">
          inside = β·[(log π<sub>θ</sub> − log π<sub>ref</sub>)(x<sup>w</sup>) − (log π<sub>θ</sub> − log π<sub>ref</sub>)(x<sup>l</sup>)], loss = mean(−log σ(inside))
        </p>
        <p>
          β here scales log-probability gaps (default 0.1), not SePPO’s MSE gaps. As with DDPO, watch the training reward against the true
          preference: a ranking by a learned reward can be gamed; the raters’ cannot, but they are noisy and drop ties.
        </p>
      </details>
      <details>
        <summary>SPO (reward-model arm)</summary>
        <p>
          Step-aware preference optimisation (Liang et al. 2024): the arm samples one image per prompt with stochastic DDIM, and at every
          denoising step draws <b>candidates</b> x<sub>t−1</sub> (default 4) from the same x<sub>t</sub>. Each candidate is ranked by the
          arm’s <b>reward</b> model on its predicted clean image x̂<sub>0</sub> (decoded; no scorer trained on noisy steps ships here, and
          ranking the predicted x̂<sub>0</sub> is SPO’s own fallback), the best w and the worst l of each step give one DPO term against
          the reference θ<sub>0</sub>, and sampling continues from a randomly drawn candidate:
        </p>
        <p className="pg-formula">
          inside<sub>t</sub> = β·[(log π<sub>θ</sub> − log π<sub>ref</sub>)(x<sup>w</sup><sub>t−1</sub>|x<sub>t</sub>) − (log π<sub>θ</sub> − log π<sub>ref</sub>)(x<sup>l</sup><sub>t−1</sub>|x<sub>t</sub>)], loss = mean(−log σ(inside))
        </p>
        <p>
          Unlike D3PO, which judges whole images and credits every step alike, each step here is judged on its own. β scales log-probability
          gaps (default 0.1). Early steps’ x̂<sub>0</sub> are blurry, so their rankings are noisier; watch the reward trace as for DDPO.
        </p>
      </details>
      <details>
        <summary>Diffusion-RPO</summary>
        <p>
          Diffusion-DPO with pairs across prompts (Gu et al. 2024): on the real winners and losers of the batch, every winner i is
          contrasted with every loser j, not only its own, each pair weighted by how similar the two prompts are (S: the cosine of the
          frozen text encoder’s mean-pooled embeddings) through a softmax at temperature <b>τ</b>:
        </p>
        <p className="pg-formula">
          ω<sub>ij</sub> = exp(S<sub>ij</sub>/τ) / Σ<sub>j′</sub> exp(S<sub>ij′</sub>/τ), loss = (1/B) Σ<sub>i,j</sub> ω<sub>ij</sub>·(−log σ(−½β((m<sub>w,i</sub> − r<sub>w,i</sub>) − (m<sub>l,j</sub> − r<sub>l,j</sub>))))
        </p>
        <p>
          A small τ puts all the weight on the own pair (Diffusion-DPO exactly); a large τ spreads it over every loser. The default 0.03 keeps
          about 70 % on the own loser and gives the rest to the prompts that differ from it by about one attribute. The diagnostics are
          Diffusion-DPO’s, on the own pairs.
        </p>
      </details>
    </div>
  );
}
